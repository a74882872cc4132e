// The counter without network. Online, the counter is an ordinary form checked by Relais,
// and this script only keeps Relais' public keys on the device. Offline, a pass whose QR
// code is scanned is checked here: its token's Ed25519 signature against the kept keys
// (a forged or altered pass is refused), its last valid day, the structure's programmes,
// and the passes this device already took (a replayed pass is refused). Accepted, the use
// waits on the device (localStorage) with its key and is sent when the network returns:
// Relais records it once, or answers that the pass was used elsewhere meanwhile, which it
// reports to both structures. Without JavaScript the counter works online only.
(function () {
  'use strict';
  var racine = document.getElementById('pass-hors-ligne');
  var verifier = document.getElementById('pass-verifier');
  if (!racine || !verifier || !window.crypto || !crypto.subtle || !window.localStorage) return;
  var structure = racine.dataset.structure;
  var csrf = racine.dataset.csrf;
  var programmes = JSON.parse(racine.dataset.programmes).programmes;
  var CLES = 'relais.pass.cles';
  var FILE = 'relais.pass.file.' + structure;
  var PRIS = 'relais.pass.pris.' + structure;
  var RESULTATS = 'relais.pass.resultats.' + structure;
  // The token's layout (domain::pass::jeton): version, key number, code, programme,
  // value, last day; then the signature of those bytes.
  var CONTENU = 1 + 4 + 15 + 8 + 4 + 4;
  var SIGNATURE = 64;

  function lire(cle, defaut) {
    try {
      return JSON.parse(localStorage.getItem(cle)) || defaut;
    } catch (e) {
      return defaut;
    }
  }

  function garder(cle, valeur) {
    localStorage.setItem(cle, JSON.stringify(valeur));
  }

  function octets(base64url) {
    if (!/^[A-Za-z0-9_-]+$/.test(base64url)) return null;
    var b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) b64 += '=';
    try {
      return Uint8Array.from(atob(b64), function (c) { return c.charCodeAt(0); });
    } catch (e) {
      return null;
    }
  }

  function tirerCle() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return btoa(String.fromCharCode.apply(null, b)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  // As Relais writes amounts (domain::pass::reglement::euros).
  function euros(centimes) {
    var unites = String(Math.floor(centimes / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
    return unites + ',' + String(centimes % 100).padStart(2, '0') + ' €';
  }

  function jourFr(jours) {
    return new Date(jours * 86400000).toLocaleDateString('fr-FR', { timeZone: 'UTC' });
  }

  function momentFr(ms) {
    return new Date(ms).toLocaleString('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' });
  }

  // Today in Paris, in days since 1970-01-01, as the tokens count.
  function aujourdhui() {
    var p = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' })
      .format(new Date()).split('-');
    return Math.floor(Date.UTC(+p[0], +p[1] - 1, +p[2]) / 86400000);
  }

  function formate(code) {
    return code.slice(0, 5) + '-' + code.slice(5, 10) + '-' + code.slice(10);
  }

  // --- what the page shows -----------------------------------------------------------

  var champ = document.getElementById('code');
  var reseau = document.getElementById('pass-reseau');
  var valable = document.getElementById('pass-hors-ligne-valable');
  var accepter = document.getElementById('pass-hors-ligne-accepter');
  var services = document.getElementById('pass-hors-ligne-services');
  var liste = document.getElementById('pass-file-liste');
  var enCours = null;

  function erreur(texte) {
    var groupe = champ.closest('.fr-input-group');
    var p = document.getElementById('code-erreur-hors-ligne');
    if (!texte) {
      if (p) p.remove();
      if (champ.getAttribute('aria-describedby') === 'code-erreur-hors-ligne') champ.removeAttribute('aria-describedby');
      groupe.classList.remove('fr-input-group--error');
      champ.classList.remove('fr-input--error');
      champ.removeAttribute('aria-invalid');
      return;
    }
    if (!p) {
      p = document.createElement('p');
      p.className = 'fr-error-text';
      p.id = 'code-erreur-hors-ligne';
      champ.insertAdjacentElement('afterend', p);
    }
    p.textContent = texte;
    groupe.classList.add('fr-input-group--error');
    champ.classList.add('fr-input--error');
    champ.setAttribute('aria-invalid', 'true');
    champ.setAttribute('aria-describedby', p.id);
    champ.focus();
  }

  function montrer() {
    var file = lire(FILE, []);
    var resultats = lire(RESULTATS, []);
    var texte = '';
    if (!navigator.onLine) {
      texte = 'Pas de réseau : un pass dont vous scannez le QR code est vérifié sur cet appareil, puis enregistré au retour du réseau.';
    }
    if (file.length > 0) {
      texte += (texte ? ' ' : '') + (file.length === 1
        ? 'Un pass accepté sans réseau attend d’être enregistré.'
        : file.length + ' pass acceptés sans réseau attendent d’être enregistrés.');
    }
    reseau.textContent = texte;
    liste.replaceChildren();
    file.forEach(function (u) {
      var li = document.createElement('li');
      li.textContent = u.resume + ', accepté le ' + momentFr(u.utilise_le) + ' : en attente du réseau.';
      liste.appendChild(li);
    });
    resultats.forEach(function (r) {
      var li = document.createElement('li');
      li.textContent = r;
      liste.appendChild(li);
    });
    document.getElementById('pass-file').hidden = file.length + resultats.length === 0;
    racine.hidden = texte === '' && file.length + resultats.length === 0;
  }

  function resultat(texte) {
    var r = lire(RESULTATS, []);
    r.unshift(texte);
    garder(RESULTATS, r.slice(0, 20));
  }

  // --- checking a token without network ----------------------------------------------

  function refus(texte) {
    return Promise.reject(new Error(texte));
  }

  function verifierJeton(saisi) {
    var b = octets(saisi);
    if (!b || b.length !== CONTENU + SIGNATURE || b[0] !== 1) {
      return refus('ce QR code n’est pas celui d’un pass numérique');
    }
    var vue = new DataView(b.buffer);
    var numero = vue.getUint32(1);
    var cle = lire(CLES, []).find(function (k) { return k.numero === numero; });
    if (!cle) {
      return refus(lire(CLES, []).length === 0
        ? 'les clés de Relais ne sont pas encore sur cet appareil : ouvrez cette page une fois avec du réseau'
        : 'ce pass est signé d’une clé que Relais ne connaît pas');
    }
    return crypto.subtle.importKey('raw', octets(cle.ed25519), { name: 'Ed25519' }, false, ['verify'])
      .then(function (k) {
        return crypto.subtle.verify({ name: 'Ed25519' }, k, b.slice(CONTENU), b.slice(0, CONTENU));
      }, function () {
        return refus('ce navigateur ne sait pas vérifier les pass sans réseau : attendez le retour du réseau');
      })
      .then(function (authentique) {
        if (!authentique) return refus('ce pass est falsifié : sa signature ne correspond pas à son contenu');
        var at = 5 + 15;
        var pass = {
          code: String.fromCharCode.apply(null, b.slice(5, at)),
          programme: String(vue.getBigInt64(at)),
          valeur_centimes: vue.getUint32(at + 8),
          dernier_jour: vue.getInt32(at + 12),
        };
        var pris = lire(PRIS, {});
        if (pris[pass.code]) {
          return refus('ce pass a déjà été accepté sur cet appareil le ' + momentFr(pris[pass.code]));
        }
        if (aujourdhui() > pass.dernier_jour) {
          return refus('ce pass était valable jusqu’au ' + jourFr(pass.dernier_jour));
        }
        if (!programmes[pass.programme]) {
          return refus('votre structure n’est pas qualifiée pour ce programme de pass');
        }
        return pass;
      });
  }

  function proposer(jeton, pass) {
    var p = programmes[pass.programme];
    enCours = {
      jeton: jeton,
      pass: pass,
      resume: 'Pass ' + formate(pass.code) + ' de ' + euros(pass.valeur_centimes) + ' — ' + p.nom,
    };
    document.getElementById('pass-hors-ligne-resume').textContent = enCours.resume + '.';
    services.querySelectorAll('.fr-fieldset__element').forEach(function (e) { e.remove(); });
    p.services.forEach(function (s) {
      var element = document.createElement('div');
      element.className = 'fr-fieldset__element';
      var groupe = document.createElement('div');
      groupe.className = 'fr-radio-group';
      var input = document.createElement('input');
      input.type = 'radio';
      input.name = 'service';
      input.id = 'hors-ligne-service-' + s[0];
      input.value = s[0];
      input.required = true;
      input.checked = p.services.length === 1;
      var label = document.createElement('label');
      label.className = 'fr-label';
      label.htmlFor = input.id;
      label.textContent = s[1];
      groupe.append(input, label);
      element.appendChild(groupe);
      services.appendChild(element);
    });
    verifier.hidden = true;
    valable.hidden = false;
    racine.hidden = false;
    document.getElementById('pass-hors-ligne-titre').focus();
  }

  function revenir() {
    enCours = null;
    valable.hidden = true;
    verifier.hidden = false;
    champ.value = '';
    champ.focus();
  }

  verifier.addEventListener('submit', function (event) {
    if (navigator.onLine) return;
    event.preventDefault();
    var saisi = champ.value.trim();
    if (saisi.length <= 30) {
      erreur('Sans réseau, seul le QR code d’un pass peut être vérifié : scannez-le, ou tapez son code au retour du réseau.');
      return;
    }
    verifierJeton(saisi).then(function (pass) {
      erreur('');
      proposer(saisi, pass);
    }, function (e) {
      erreur(e.message.charAt(0).toUpperCase() + e.message.slice(1) + '.');
    });
  });

  accepter.addEventListener('submit', function (event) {
    event.preventDefault();
    if (!enCours) return;
    var service = accepter.querySelector('input[name="service"]:checked');
    var lieu = verifier.querySelector('[name="lieu"]');
    var maintenant = Date.now();
    var file = lire(FILE, []);
    file.push({
      code: enCours.jeton,
      cle: tirerCle(),
      lieu: lieu && lieu.value ? lieu.value : null,
      service: service.value,
      utilise_le: maintenant,
      resume: enCours.resume,
    });
    garder(FILE, file);
    var pris = lire(PRIS, {});
    pris[enCours.pass.code] = maintenant;
    garder(PRIS, pris);
    revenir();
    montrer();
    envoyer();
  });

  document.getElementById('pass-hors-ligne-annuler').addEventListener('click', revenir);

  // --- sending the queue -------------------------------------------------------------

  var envoi = false;

  // Sends the queue in order; a use leaves it once Relais answered for it.
  function envoyer() {
    if (envoi || !navigator.onLine) return;
    var file = lire(FILE, []);
    if (file.length === 0) return;
    envoi = true;
    var u = file[0];
    fetch('/api/v1/structures/' + structure + '/pass/utilisations', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
      body: JSON.stringify({
        code: u.code, cle: u.cle, lieu: u.lieu, service: u.service, utilise_le: u.utilise_le, hors_ligne: true,
      }),
    }).then(function (res) {
      if (res.status === 401 || res.status === 429 || res.status >= 500) throw new Error('réponse ' + res.status);
      return res.json().then(function (corps) {
        if (res.ok) {
          resultat(u.resume + ' : enregistré.');
        } else if (corps.code === 'deja_utilise') {
          resultat(u.resume + ' : déjà utilisé le ' + momentFr(corps.utilise_le) + ' (' + corps.ou
            + '). Le conflit est signalé à votre structure et à celle-ci, sur la page des relevés.');
        } else {
          resultat(u.resume + ' : refusé, ' + corps.detail);
        }
        garder(FILE, lire(FILE, []).filter(function (e) { return e.cle !== u.cle; }));
        envoi = false;
        montrer();
        envoyer();
      });
    }).catch(function (e) {
      envoi = false;
      montrer();
      if (String(e.message) === 'réponse 401') {
        reseau.textContent = 'Votre session a pris fin : reconnectez-vous pour envoyer les pass acceptés sans réseau ; ils restent sur cet appareil.';
      }
    });
  }

  function garderCles() {
    if (!navigator.onLine) return;
    fetch('/api/v1/pass/cles', { credentials: 'same-origin' })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (corps) { if (corps) garder(CLES, corps.cles); })
      .catch(function () {});
  }

  window.addEventListener('online', function () {
    erreur('');
    garderCles();
    montrer();
    envoyer();
  });
  window.addEventListener('offline', montrer);
  garderCles();
  montrer();
  envoyer();
})();
