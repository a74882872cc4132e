// Entries made without network: the activity form, sent while the device is offline, is
// kept on the device (localStorage) and sent when the network returns, from this page or
// the next one opened. Each entry carries the key the server gave its form: sent twice
// (a retry after a lost answer, two tabs), it is written once. Without JavaScript the form
// is an ordinary form.
(function () {
  'use strict';
  var KEY = 'relais.activites.attente';

  function queued() {
    try {
      return JSON.parse(localStorage.getItem(KEY) || '[]');
    } catch (e) {
      return [];
    }
  }

  function save(list) {
    localStorage.setItem(KEY, JSON.stringify(list));
  }

  function say(text) {
    var status = document.getElementById('activites-attente');
    if (!status) return;
    status.textContent = text;
    status.hidden = text === '';
  }

  function describe() {
    var n = queued().length;
    say(n === 0 ? '' : n === 1
      ? 'Une activité saisie sans réseau est gardée sur cet appareil : elle sera envoyée au retour du réseau.'
      : n + ' activités saisies sans réseau sont gardées sur cet appareil : elles seront envoyées au retour du réseau.');
  }

  function newKey() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ('0' + b.toString(16)).slice(-2); }).join('');
  }

  var sending = false;

  // Sends the queue in order; an entry leaves it once the server answered for it.
  function sync() {
    if (sending || !navigator.onLine) return;
    var list = queued();
    if (list.length === 0) return;
    sending = true;
    var entry = list[0];
    fetch(entry.action, {
      method: 'POST',
      body: entry.body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      credentials: 'same-origin',
      // The server answers a written entry with a redirection to the list: it is not
      // followed (nothing more to load), its kind is the answer.
      redirect: 'manual',
    }).then(function (res) {
      var rest = queued().filter(function (e) { return e.cle !== entry.cle; });
      if (res.type === 'opaqueredirect') {
        save(rest);
        say('Une activité saisie sans réseau a été envoyée.');
      } else if (res.status === 422) {
        save(rest);
        say('Une activité saisie sans réseau le ' + entry.quand + ' a été refusée : saisissez-la de nouveau.');
      } else {
        throw new Error('réponse ' + res.status);
      }
      sending = false;
      if (rest.length > 0) sync(); else if (document.getElementById('liste-activites')) location.reload();
    }).catch(function () {
      sending = false;
      describe();
    });
  }

  var form = document.getElementById('saisie-activite');
  if (form) {
    form.addEventListener('submit', function (event) {
      if (navigator.onLine) return;
      event.preventDefault();
      var data = new URLSearchParams(new FormData(form));
      var list = queued();
      var cle = data.get('cle');
      if (!list.some(function (e) { return e.cle === cle; })) {
        list.push({ cle: cle, action: form.action, body: data.toString(), quand: new Date().toLocaleString('fr-FR') });
        save(list);
      }
      // The next entry made on this page is another activity.
      form.elements.cle.value = newKey();
      describe();
    });
  }

  window.addEventListener('online', sync);
  describe();
  sync();
})();
