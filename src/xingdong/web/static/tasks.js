// The task center keeps its cards current while it is open: units left, and a card that
// can no longer be claimed (taken, closed, held back by its plan) says so. Asking does
// not reload the feed, so it is not counted as the feed being shown again.
(function () {
  "use strict";

  var REFRESH_MS = 10000;
  var list = document.querySelector("[data-task-list][data-state-url]");
  if (!list) {
    return;
  }
  var stale = document.querySelector("[data-feed-stale]");

  function apply(card, state) {
    if (!state) {
      // Not in the answer: left as it is (the next refresh asks again).
      return Boolean(card.getAttribute("data-gone"));
    }
    var units = card.querySelector("[data-units-left]");
    if (units && state.quantity) {
      units.setAttribute("data-units-left", state.units_left);
      units.textContent = state.left_text;
    }
    var blocked = card.querySelector("[data-card-blocked]");
    var go = card.querySelector("[data-open-task]");
    if (state.reason) {
      card.setAttribute("data-gone", state.reason);
      blocked.textContent = state.reason_text;
      blocked.hidden = false;
      go.hidden = true;
    } else {
      card.removeAttribute("data-gone");
      blocked.hidden = true;
      go.hidden = false;
    }
    return Boolean(state.reason);
  }

  var asking = false;

  function refresh() {
    // One question at a time, so that a late answer never overwrites a newer one.
    if (document.hidden || asking) {
      return;
    }
    asking = true;
    var cards = list.querySelectorAll("[data-task]");
    var ids = Array.prototype.map.call(cards, function (card) {
      return card.getAttribute("data-task");
    });
    var url = list.getAttribute("data-state-url") + "?ids=" + encodeURIComponent(ids.join(","));
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) {
          return;
        }
        var gone = 0;
        Array.prototype.forEach.call(cards, function (card) {
          if (apply(card, answer.tasks[card.getAttribute("data-task")])) {
            gone += 1;
          }
        });
        if (stale) {
          stale.hidden = gone === 0;
        }
      })
      .catch(function () {})
      .then(function () { asking = false; });
  }

  window.setInterval(refresh, REFRESH_MS);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) {
      refresh();
    }
  });
})();
