// Small enhancements; every page also works without scripts.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A button may ask its own question (one of several ways to send the same form).
    var button = event.submitter;
    var question =
      (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      // A choice that submits on change goes back to what it was, as nothing changed.
      var choices = form.querySelectorAll("select[data-autosubmit] option");
      for (var i = 0; i < choices.length; i += 1) {
        choices[i].selected = choices[i].defaultSelected;
      }
    }
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      if (typeof field.form.requestSubmit === "function") {
        field.form.requestSubmit();
      } else {
        field.form.submit();
      }
    }
  });
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-nav-toggle]");
    if (!toggle) {
      return;
    }
    var nav = document.querySelector("[data-nav]");
    var open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  // A "done" message rides in the address once; drop it there so that reloading or
  // sharing the page does not say it again.
  if (window.history.replaceState && /[?&]done=/.test(window.location.search)) {
    var url = new URL(window.location.href);
    url.searchParams.delete("done");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
})();
