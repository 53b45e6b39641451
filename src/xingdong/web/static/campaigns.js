// Campaign pages: the step-by-step form and the live progress. Without scripts the form
// shows every step at once and the progress is as of the page load.
(function () {
  "use strict";

  // As the server reads them (app.js's reader): null for what it would refuse, a
  // fraction of a fen among it.
  function toFen(text) {
    var value = window.xingdongNumber(text);
    if (value === null || value < 0) {
      return null;
    }
    var fen = Math.round(value * 100);
    return Math.abs(fen - value * 100) < 1e-6 ? fen : null;
  }

  function toWhole(text) {
    var value = window.xingdongNumber(text);
    return value !== null && Math.floor(value) === value ? value : null;
  }

  function yuan(fen) {
    return window.xingdongYuan(fen);
  }

  function setupSteps(form) {
    var steps = Array.prototype.slice.call(form.querySelectorAll("fieldset[data-step]"));
    var labels = document.querySelectorAll("[data-step-label]");
    var found = form.querySelector("[data-target-found]");
    var problem = form.querySelector("[data-target-error]");
    var taskType = form.querySelector("#task_type");
    var target = form.querySelector("#target");

    function show(number) {
      steps.forEach(function (step) {
        step.hidden = Number(step.getAttribute("data-step")) !== number;
      });
      Array.prototype.forEach.call(labels, function (label) {
        if (Number(label.getAttribute("data-step-label")) === number) {
          label.setAttribute("aria-current", "step");
        } else {
          label.removeAttribute("aria-current");
        }
      });
      form.setAttribute("data-current-step", String(number));
      var first = form.querySelector('fieldset[data-step="' + number + '"] input, fieldset[data-step="' + number + '"] select');
      if (first && number !== 5 && form.getAttribute("data-started") === "yes") {
        first.focus();
      }
      form.setAttribute("data-started", "yes");
      window.scrollTo(0, 0);
    }

    // What a step must have before the next (the server checks everything again): a
    // note under each field left empty, and an end before its start.
    function note(field, message) {
      var id = field.id + "-needed";
      var shown = document.getElementById(id);
      if (!shown) {
        shown = document.createElement("span");
        shown.id = id;
        shown.className = "field-error";
        shown.setAttribute("role", "alert");
        field.insertAdjacentElement("afterend", shown);
      }
      shown.textContent = message || "";
      shown.hidden = !message;
      if (message) {
        field.setAttribute("aria-invalid", "true");
        field.setAttribute("aria-describedby", id);
      } else {
        field.removeAttribute("aria-invalid");
      }
    }

    // A number the server would refuse: none at all, below data-least, above
    // data-most, or not whole where data-whole asks for one.
    function inRange(field) {
      var value = window.xingdongNumber(field.value);
      var most = field.getAttribute("data-most");
      return (
        value !== null &&
        value >= Number(field.getAttribute("data-least")) &&
        (most === null || value <= Number(most)) &&
        (!field.hasAttribute("data-whole") || Math.floor(value) === value)
      );
    }

    function firstProblem(number) {
      var step = form.querySelector('fieldset[data-step="' + number + '"]');
      var first = null;
      Array.prototype.forEach.call(step.querySelectorAll("[data-needed]"), function (field) {
        var message = "";
        var after = field.getAttribute("data-after");
        if (!field.value.trim()) {
          message = field.getAttribute("data-needed");
        } else if (after && form.querySelector("#" + after).value >= field.value) {
          message = field.getAttribute("data-after-message");
        } else if (field.hasAttribute("data-least") && !inRange(field)) {
          message = field.getAttribute("data-range-message");
        }
        note(field, message);
        if (message && !first) {
          first = field;
        }
      });
      return first;
    }

    function showHint() {
      var option = taskType.options[taskType.selectedIndex];
      var kind = option ? option.getAttribute("data-target-kind") : "";
      Array.prototype.forEach.call(form.querySelectorAll("[data-hint-kind]"), function (hint) {
        hint.hidden = hint.getAttribute("data-hint-kind") !== kind;
      });
      // The thousand-impressions unit concerns profile ads alone.
      Array.prototype.forEach.call(form.querySelectorAll("[data-cpm-hint]"), function (hint) {
        hint.hidden = taskType.value !== "profile_ad";
      });
    }

    function checkTarget(then) {
      var query = new URLSearchParams({ task_type: taskType.value, target: target.value });
      problem.hidden = true;
      target.removeAttribute("aria-invalid");
      fetch("/orgs/" + form.getAttribute("data-org") + "/campaigns/target?" + query, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (answer.found) {
            found.hidden = false;
            found.querySelector("[data-target-title]").textContent = answer.title;
            found.querySelector("[data-target-link]").setAttribute("href", answer.url);
            if (then) { then(); }
          } else {
            found.hidden = true;
            problem.textContent = answer.message;
            problem.hidden = false;
            // Read with the field when it takes the focus, not only once as an alert.
            target.setAttribute("aria-invalid", "true");
            target.setAttribute("aria-describedby", problem.id);
            target.focus();
          }
        })
        .catch(function () {
          // The server will check again when the campaign is checked as a whole.
          if (then) { then(); }
        });
    }

    function showSplit() {
      var price = toFen(form.querySelector("#unit_price").value);
      var quantity = toWhole(form.querySelector("#quantity").value);
      var percent = Number(form.getAttribute("data-fee-percent"));
      var reward = form.querySelector("[data-reward]");
      var fee = form.querySelector("[data-fee]");
      var total = form.querySelector("[data-total]");
      if (price === null) {
        reward.textContent = fee.textContent = total.textContent = "—";
        return;
      }
      var cut = Math.floor((price * percent) / 100);
      reward.textContent = yuan(price - cut);
      fee.textContent = yuan(cut);
      total.textContent = quantity > 0 ? yuan(price * quantity) : "—";
    }

    Array.prototype.forEach.call(form.querySelectorAll("[data-js-only]"), function (element) {
      element.hidden = false;
    });
    form.addEventListener("click", function (event) {
      var check = event.target.closest("[data-check-target]");
      if (check) {
        event.preventDefault();
        checkTarget(null);
        return;
      }
      var go = event.target.closest("[data-go]");
      if (!go) {
        return;
      }
      event.preventDefault();
      var to = Number(go.getAttribute("data-go"));
      var from = Number(form.getAttribute("data-current-step"));
      var stuck = to > from ? firstProblem(from) : null;
      if (stuck) {
        stuck.focus();
        return;
      }
      if (from === 1 && to === 2) {
        checkTarget(function () { show(2); });
      } else {
        show(to);
      }
    });
    taskType.addEventListener("change", function () {
      found.hidden = true;
      showHint();
    });
    target.addEventListener("input", function () {
      found.hidden = true;
      problem.hidden = true;
    });
    form.querySelector("#unit_price").addEventListener("input", showSplit);
    form.querySelector("#quantity").addEventListener("input", showSplit);
    showHint();
    showSplit();
    show(Number(form.getAttribute("data-start-step")) || 1);
  }

  function redrawDelivery(delivery) {
    var section = document.getElementById("delivery");
    if (!section) {
      return;
    }
    section.querySelector("[data-actual]").setAttribute("points", delivery.taken_points);
    var now = section.querySelector("[data-now]");
    if (delivery.now_x === null) {
      now.setAttribute("hidden", "");
    } else {
      now.removeAttribute("hidden");
      now.setAttribute("x1", delivery.now_x);
      now.setAttribute("x2", delivery.now_x);
    }
    Array.prototype.forEach.call(section.querySelectorAll("span[data-delivery]"), function (cell) {
      cell.textContent = delivery[cell.getAttribute("data-delivery")];
    });
    var ahead = section.querySelector("[data-ahead]");
    if (ahead) {
      ahead.hidden = !delivery.ahead;
    }
  }

  function setupProgress(box) {
    var url = box.getAttribute("data-progress-url");
    var bar = box.querySelector("[data-progress-bar]");
    var status = document.querySelector("[data-status-label] [data-campaign-status]");
    var timer = window.setInterval(function () {
      if (document.hidden) {
        return;
      }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (numbers) {
          if (!numbers) {
            return;
          }
          Array.prototype.forEach.call(box.querySelectorAll("[data-progress]"), function (cell) {
            var shown = numbers[cell.getAttribute("data-progress")];
            // Counts grouped by thousands as the page first wrote them (amounts come as text).
            cell.textContent = typeof shown === "number" ? shown.toLocaleString("en-US") : shown;
          });
          bar.value = numbers.units_done;
          if (status && status.getAttribute("data-campaign-status") !== numbers.status) {
            // The status changed (approved, closed …): the actions on the page differ now.
            window.clearInterval(timer);
            window.location.reload();
            return;
          }
          if (numbers.delivery) {
            redrawDelivery(numbers.delivery);
          }
        })
        .catch(function () {});
    }, 10000);
  }

  var form = document.querySelector("form[data-steps]");
  if (form) {
    setupSteps(form);
  }
  var box = document.querySelector("[data-progress-url]");
  if (box) {
    setupProgress(box);
  }
})();
