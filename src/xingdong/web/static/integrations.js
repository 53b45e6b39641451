// The API key or signing secret shown once: a button copies it, and the address becomes
// the page's own again, so that reloading asks for the page instead of sending the form
// (and making another key) a second time.
(function () {
  "use strict";
  var box = document.querySelector("[data-shown-once]");
  if (!box) {
    return;
  }
  var home = box.getAttribute("data-page-url");
  if (home && window.history.replaceState) {
    window.history.replaceState(null, "", home);
  }
  box.focus();
  var field = box.querySelector("[data-shown-once-value]");
  var button = box.querySelector("[data-copy]");
  var status = box.querySelector("[data-copy-status]");
  field.addEventListener("focus", function () {
    field.select();
  });

  function tell(copied) {
    status.textContent = status.getAttribute(copied ? "data-copied" : "data-not-copied");
  }

  // The older way, for browsers that keep the clipboard API from this page.
  function copyBySelecting() {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(
        function () {
          tell(true);
        },
        function () {
          tell(copyBySelecting());
        }
      );
    } else {
      tell(copyBySelecting());
    }
  });
})();
