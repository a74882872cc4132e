// The search of lieux, enhanced: "Autour de moi" (geolocation) and, on demand, the map of the
// results.
// Without JavaScript the page works the same: the button stays hidden and the list is shown.
(function () {
  'use strict';

  var form = document.getElementById('recherche');
  var button = document.getElementById('autour-de-moi');
  var status = document.getElementById('autour-de-moi-statut');
  if (form && button && status && 'geolocation' in navigator) {
    button.hidden = false;
    button.addEventListener('click', function () {
      status.textContent = 'Recherche de votre position…';
      navigator.geolocation.getCurrentPosition(function (position) {
        // The position replaces the commune: the server searches around it.
        form.querySelector('#q').value = '';
        [['lat', position.coords.latitude], ['lon', position.coords.longitude]].forEach(function (pair) {
          var input = document.createElement('input');
          input.type = 'hidden';
          input.name = pair[0];
          input.value = pair[1].toFixed(5);
          form.appendChild(input);
        });
        status.textContent = 'Position trouvée : recherche des lieux autour de vous…';
        form.submit();
      }, function () {
        status.textContent = 'Votre position n’a pas pu être obtenue. Indiquez votre commune ou votre code postal.';
      }, { timeout: 15000, maximumAge: 600000 });
    });
  }

  // The map is drawn on demand: Leaflet and the départements' contours weigh more than the
  // rest of the page, and the list above gives everything the map shows.
  var container = document.getElementById('carte');
  var show = document.getElementById('afficher-carte');
  var items = Array.prototype.slice.call(document.querySelectorAll('.relais-resultat[data-lat]'));
  if (!container || !show || items.length === 0) {
    return;
  }
  // This script's nonce and folder: Leaflet is loaded from the same versioned folder, and
  // the Content-Security-Policy runs only scripts that carry the nonce.
  var self = document.currentScript;
  var assets = self.src.replace(/\/[^/]*$/, '');
  show.hidden = false;
  show.addEventListener('click', function () {
    show.disabled = true;
    var failed = function () {
      show.disabled = false;
    };
    // The style sheet first: Leaflet reads from it where its marker images are.
    var css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = assets + '/leaflet/leaflet.css';
    css.onerror = failed;
    css.onload = function () {
      var script = document.createElement('script');
      script.src = assets + '/leaflet/leaflet.js';
      script.nonce = self.nonce;
      script.onerror = failed;
      script.onload = function () {
        show.hidden = true;
        draw(container, items);
        container.focus();
      };
      document.head.appendChild(script);
    };
    document.head.appendChild(css);
  });

  function draw(container, items) {
    container.hidden = false;
    var note = document.getElementById('carte-note');
    if (note) {
      note.hidden = false;
    }
    var map = L.map(container, { zoomControl: false, scrollWheelZoom: false });
    map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
    L.control.zoom({ zoomInTitle: 'Zoom avant', zoomOutTitle: 'Zoom arrière' }).addTo(map);
    var tiles = container.getAttribute('data-tuiles');
    if (tiles) {
      L.tileLayer(tiles, { attribution: 'Fond de carte : ' + new URL(tiles.replace('{s}', 'a')).host }).addTo(map);
    } else {
      fetch(container.getAttribute('data-contours'))
        .then(function (r) { return r.json(); })
        .then(function (geojson) {
          L.geoJSON(geojson, {
            interactive: false,
            style: { color: '#000091', weight: 1, fillColor: '#e3e3fd', fillOpacity: 0.5 }
          }).addTo(map).bringToBack();
        })
        .catch(function () { /* the markers are enough */ });
      map.attributionControl.addAttribution('Contours des départements : IGN, Admin Express');
    }
    var points = items.map(function (li) {
      var latlng = [parseFloat(li.getAttribute('data-lat')), parseFloat(li.getAttribute('data-lon'))];
      var name = li.getAttribute('data-nom');
      var link = document.createElement('a');
      link.href = li.getAttribute('data-href');
      link.textContent = name;
      // Out of the tab order: the list gives the same lieux, and is reached first.
      L.marker(latlng, { title: name, alt: name, keyboard: false }).bindPopup(link).addTo(map);
      return latlng;
    });
    map.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
  }
})();
