// The search of lieux, enhanced: "Autour de moi" (geolocation), on demand the map of the
// results, and before any search the national map of lieux grouped by the server.
// Without JavaScript the page works the same: the buttons stay hidden and the lists are shown.
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

  // This script's nonce and folder: Leaflet is loaded from the same versioned folder, and
  // the Content-Security-Policy runs only scripts that carry the nonce.
  var self = document.currentScript;
  var assets = self.src.replace(/\/[^/]*$/, '');

  // Leaflet, loaded once, then `done`; `failed` if it could not be.
  function withLeaflet(done, failed) {
    if (window.L) {
      done();
      return;
    }
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
      script.onload = done;
      document.head.appendChild(script);
    };
    document.head.appendChild(css);
  }

  // A map in `container` with French zoom buttons, on the tile server when one is set,
  // else on the départements' contours.
  function baseMap(container, note) {
    container.hidden = false;
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
    return map;
  }

  // A lieu's marker, out of the tab order: the list gives the same lieux, and is reached first.
  function lieuMarker(latlng, name, href) {
    var link = document.createElement('a');
    link.href = href;
    link.textContent = name;
    return L.marker(latlng, { title: name, alt: name, keyboard: false }).bindPopup(link);
  }

  // `button` draws the map on demand: Leaflet and the contours weigh more than the rest of
  // the page, and the list gives everything the map shows.
  function onDemand(button, draw) {
    button.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      withLeaflet(function () {
        button.hidden = true;
        draw();
      }, function () {
        button.disabled = false;
      });
    });
  }

  // The map of the listed lieux.
  var container = document.getElementById('carte');
  var show = document.getElementById('afficher-carte');
  var items = Array.prototype.slice.call(document.querySelectorAll('.relais-resultat[data-lat]'));
  if (container && show && items.length > 0) {
    onDemand(show, function () {
      var map = baseMap(container, document.getElementById('carte-note'));
      var points = items.map(function (li) {
        var latlng = [parseFloat(li.getAttribute('data-lat')), parseFloat(li.getAttribute('data-lon'))];
        lieuMarker(latlng, li.getAttribute('data-nom'), li.getAttribute('data-href')).addTo(map);
        return latlng;
      });
      map.fitBounds(points, { padding: [30, 30], maxZoom: 15 });
      container.focus();
    });
  }

  // The national map: the server groups the lieux of the view by its zoom.
  var france = document.getElementById('carte-france');
  var showFrance = document.getElementById('afficher-carte-france');
  if (france && showFrance) {
    onDemand(showFrance, function () {
      drawFrance(france);
    });
    // A wide screen draws it at once; a phone asks for it (about 140 KB more).
    if (window.matchMedia('(min-width: 48em)').matches) {
      showFrance.click();
    }
  }

  function drawFrance(container) {
    var map = baseMap(container, document.getElementById('carte-france-note'));
    var detail = 15;
    map.fitBounds([[41.3, -5.2], [51.1, 9.6]]);
    var layer = L.layerGroup().addTo(map);
    var asked = 0;
    var clamp = function (x, limit) { return Math.max(-limit, Math.min(limit, x)).toFixed(5); };
    var refresh = function () {
      var b = map.getBounds();
      var wide = b.getEast() - b.getWest() >= 360;
      var bbox = [
        wide ? '-180' : clamp(b.getWest(), 180), clamp(b.getSouth(), 90),
        wide ? '180' : clamp(b.getEast(), 180), clamp(b.getNorth(), 90)
      ].join(',');
      var zoom = Math.max(0, Math.min(20, Math.round(map.getZoom())));
      var ask = ++asked;
      fetch(container.getAttribute('data-marques') + '?bbox=' + bbox + '&zoom=' + zoom)
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          if (ask !== asked) {
            return; // a newer view was asked meanwhile
          }
          layer.clearLayers();
          data.marques.forEach(function (m) {
            var latlng = [m.lat, m.lon];
            if (m.nombre === 1) {
              lieuMarker(latlng, m.nom, '/lieux/' + m.id).addTo(layer);
              return;
            }
            var size = Math.round(28 + 10 * Math.log10(m.nombre));
            var label = m.nombre + ' lieux';
            var group = L.marker(latlng, {
              title: label,
              keyboard: false,
              icon: L.divIcon({ className: 'relais-grappe', html: String(m.nombre), iconSize: [size, size] })
            }).addTo(layer);
            if (zoom < detail) {
              group.on('click', function () {
                map.setView(latlng, Math.min(zoom + 2, detail));
              });
            } else {
              var link = document.createElement('a');
              link.href = '/lieux?lat=' + m.lat + '&lon=' + m.lon + '#resultats';
              link.textContent = label + ' à cet endroit : voir la liste';
              group.bindPopup(link);
            }
          });
        })
        .catch(function () { /* the list of départements gives the same lieux */ });
    };
    map.on('moveend', refresh);
    refresh();
  }
})();
