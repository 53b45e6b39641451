// Keyboard shortcuts of the reviewers' workbench: A approve, R reject, 1–7 pick a reject
// reason, J next, K previous. Every action is also a button or a link on the page. A
// reviewer can turn them off (speech input and stray key presses would set them off); the
// choice is kept in this browser.
(function () {
  "use strict";
  var STORED = "xingdong.workbench.shortcuts";
  var toggle = document.querySelector("[data-shortcuts-toggle]");
  function remembered() {
    try {
      return window.localStorage.getItem(STORED);
    } catch (error) {
      return null;
    }
  }
  if (toggle) {
    toggle.checked = remembered() !== "off";
    toggle.closest("[data-shortcuts]").hidden = false;
    toggle.addEventListener("change", function () {
      try {
        window.localStorage.setItem(STORED, toggle.checked ? "on" : "off");
      } catch (error) {
        // Private browsing without storage: the choice lasts for this page.
      }
    });
  }
  function typing(target) {
    var tag = target && target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && target.type !== "radio") ||
      (target && target.isContentEditable);
  }
  function press(selector) {
    var element = document.querySelector(selector);
    if (element) {
      element.click();
    }
    return Boolean(element);
  }
  function go(selector) {
    var link = document.querySelector(selector);
    if (link) {
      window.location.assign(link.href);
    }
  }
  // Enter in the decision form (on a reason, after R) would send it with its first
  // button, Approve: a decision is only ever the button or the key pressed for it.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (
      event.key === "Enter" &&
      target.closest &&
      target.closest("[data-decision-form]") &&
      target.tagName === "INPUT"
    ) {
      event.preventDefault();
    }
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (toggle && !toggle.checked) {
      return;
    }
    if (!document.querySelector("[data-workbench]")) {
      return;
    }
    var key = event.key.toLowerCase();
    if (key === "a") {
      event.preventDefault();
      press("[data-approve]");
    } else if (key === "r") {
      event.preventDefault();
      if (document.querySelector("[data-reject-reason]:checked")) {
        press("[data-reject]");
      } else {
        var hint = document.querySelector("[data-reason-hint]");
        if (hint) {
          hint.hidden = false;
        }
        var first = document.querySelector("[data-reject-reason]");
        if (first) {
          first.focus();
        }
      }
    } else if (/^[1-9]$/.test(key)) {
      var reason = document.querySelector('[data-reject-reason="' + key + '"]');
      if (reason) {
        event.preventDefault();
        reason.checked = true;
        var shown = document.querySelector("[data-reason-hint]");
        if (shown) {
          shown.hidden = true;
        }
      }
    } else if (key === "j") {
      event.preventDefault();
      go("[data-next]");
    } else if (key === "k") {
      event.preventDefault();
      go("[data-prev]");
    }
  });
})();
