// Anti-cheat signals sent with the forms marked data-signals (sign-up, sign-in, claim,
// hand-in, withdrawal): an id this browser keeps, a summary of the device, and the pointer
// path of the gesture that sent the form. People move in curves at uneven speed; scripts
// jump or glide in straight lines at even intervals. Nothing here is needed for the form
// to work, and nothing leaves the page except with the form.
(function () {
  "use strict";
  var KEY = "xd_device";
  var MAX_SAMPLES = 200;
  var samples = [];
  var origin = null;

  function randomHex(bytes) {
    var out = "";
    var values = new Uint8Array(bytes);
    (window.crypto || window.msCrypto).getRandomValues(values);
    for (var i = 0; i < values.length; i++) {
      out += ("0" + values[i].toString(16)).slice(-2);
    }
    return out;
  }

  function deviceId() {
    try {
      var id = window.localStorage.getItem(KEY);
      if (!id || !/^[0-9a-f]{32}$/.test(id)) {
        id = randomHex(16);
        window.localStorage.setItem(KEY, id);
      }
      return id;
    } catch (err) {
      return "";
    }
  }

  // 32-bit FNV-1a over what the browser says about itself; equal for identical phones,
  // so it is only ever read beside the id above.
  function deviceSummary() {
    var nav = window.navigator || {};
    var scr = window.screen || {};
    var zone = "";
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch (err) {
      zone = "";
    }
    var parts = [
      nav.userAgent, (nav.languages || []).join(","), nav.platform, nav.hardwareConcurrency,
      nav.deviceMemory, nav.maxTouchPoints, scr.width, scr.height, scr.colorDepth,
      window.devicePixelRatio, zone
    ].join("|");
    var hash = 0x811c9dc5;
    for (var i = 0; i < parts.length; i++) {
      hash ^= parts.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return ("0000000" + hash.toString(16)).slice(-8);
  }

  function note(event) {
    var now = Math.round(window.performance.now());
    if (origin === null) {
      origin = now;
    }
    samples.push([now - origin, Math.round(event.clientX), Math.round(event.clientY)]);
    if (samples.length > MAX_SAMPLES) {
      samples.shift();
    }
  }

  function field(form, name, value) {
    var input = form.querySelector('input[type=hidden][name="' + name + '"]');
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  document.addEventListener("pointermove", note, { passive: true });
  document.addEventListener("pointerdown", note, { passive: true });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-signals")) {
      return;
    }
    field(form, "device_id", deviceId());
    field(form, "device_summary", deviceSummary());
    field(form, "trajectory", JSON.stringify(samples));
  }, true);
})();
