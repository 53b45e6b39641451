// Small enhancements; every page also works without scripts.
(function () {
  "use strict";
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // A button may ask its own question (one of several ways to send the same form).
    var button = event.submitter;
    // A form the server will refuse anyway (a required field empty, a box not ticked)
    // is sent without asking: the page then says what is missing, and the question comes
    // when the answer can go through.
    var question = lacksWhatItNeeds(form, button)
      ? null
      : (button && button.getAttribute("data-confirm")) ||
        filledQuestion(form) ||
        form.getAttribute("data-confirm") ||
        moneyQuestion(form);
    if (question && !window.confirm(question)) {
      event.preventDefault();
      // A choice that submits on change goes back to what it was, as nothing changed.
      var choices = form.querySelectorAll("select[data-autosubmit] option");
      for (var i = 0; i < choices.length; i += 1) {
        choices[i].selected = choices[i].defaultSelected;
      }
    }
  });
  // Whether a required field of the form is empty (or only spaces) or a required box is
  // not ticked; a button may need more fields than the form does (data-requires).
  function lacksWhatItNeeds(form, button) {
    var fields = Array.prototype.slice.call(form.querySelectorAll("[required]"));
    var names = ((button && button.getAttribute("data-requires")) || "").split(/\s+/);
    for (var i = 0; i < names.length; i += 1) {
      var named = names[i] && form.elements.namedItem(names[i]);
      if (named) {
        fields.push(named);
      }
    }
    var empty = fields.some(function (field) {
      if (field.disabled) {
        return false;
      }
      return field.type === "checkbox" ? !field.checked : !String(field.value || "").trim();
    });
    // A field typed twice that differs (an account number) is the server's to point out.
    var twice = Array.prototype.slice.call(form.querySelectorAll("[data-same-as]"));
    return (
      empty ||
      twice.some(function (field) {
        var first = form.elements.namedItem(field.getAttribute("data-same-as"));
        return first && first.value.replace(/\s/g, "") !== field.value.replace(/\s/g, "");
      })
    );
  }
  // An account number shown as the server shows it once bound (mask_account in
  // ledger/withdrawals.py): an e-mail's first letter and domain, a phone number's first
  // three and last four digits, otherwise the last four characters.
  function maskedAccount(typed) {
    // Cleaned as the server cleans it (_cleaned): full-width forms folded, no spaces or
    // dashes.
    var text = typed
      .replace(/[\uFF01-\uFF5E]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/[\s-]/g, "");
    var at = text.indexOf("@");
    if (at >= 0) {
      return text.slice(0, 1) + "***" + text.slice(at);
    }
    if (/^1\d{10}$/.test(text)) {
      return text.slice(0, 3) + "****" + text.slice(-4);
    }
    return "**** " + text.slice(-4);
  }
  // A question naming what the form is about to do with what was typed: "{holder_name}"
  // is that field's value (a choice's words for a select), "{number:masked}" an account
  // number as it will be shown once bound.
  function filledQuestion(form) {
    var template = form.getAttribute("data-confirm-filled");
    if (!template) {
      return null;
    }
    return template.replace(/\{(\w+)(:masked)?\}/g, function (whole, name, masked) {
      var field = form.elements.namedItem(name);
      if (!field) {
        return whole;
      }
      var text =
        field.tagName === "SELECT" && field.selectedIndex >= 0
          ? field.options[field.selectedIndex].text
          : String(field.value || "").trim();
      return masked ? maskedAccount(text) : text;
    });
  }
  // A number as the server reads what people type (core/numbers.py): full-width forms
  // folded, the yuan sign dropped, and thousands separators only between groups of three
  // digits ("1,5" is no number, not 15). Null when it is none. Campaign pages use it too.
  function typedNumber(typed) {
    var text = String(typed)
      .replace(/[\uFF01-\uFF5E]/g, function (c) {
        return String.fromCharCode(c.charCodeAt(0) - 0xfee0);
      })
      .replace(/\u3000/g, " ")
      .replace(/[¥\uFFE5]/g, "")
      .trim();
    if (/[,_' ]/.test(text)) {
      if (!/^[+-]?\d{1,3}([,_' ]\d{3})+(\.\d*)?$/.test(text)) {
        return null;
      }
      text = text.replace(/[,_' ]/g, "");
    }
    var value = Number(text);
    return text && isFinite(value) ? value : null;
  }
  window.xingdongNumber = typedNumber;
  // Fen as yuan for people to read, as the server writes it (core/money.py): two
  // decimals, thousands grouped ("13,488.00").
  function yuanText(fen) {
    var sign = fen < 0 ? "-" : "";
    var cents = Math.abs(Math.round(fen));
    var whole = String(Math.floor(cents / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return sign + whole + "." + String(cents % 100).padStart(2, "0");
  }
  window.xingdongYuan = yuanText;
  // A withdrawal asks with the amount, the fee and what arrives. An amount the server
  // refuses anyway (empty, not a number, below the smallest) is sent without asking, and
  // the page says what is wrong.
  function moneyQuestion(form) {
    var template = form.getAttribute("data-confirm-money");
    var field = form.querySelector("input[name=amount]");
    if (!template || !field) {
      return null;
    }
    var value = typedNumber(field.value);
    // More than two decimals is not an amount the server takes: never round it silently
    // in a question about money.
    if (value === null || /\.\d{3,}/.test(String(field.value))) {
      return null;
    }
    var fen = Math.round(value * 100);
    var fee = parseInt(form.getAttribute("data-fee-fen"), 10) || 0;
    var least = parseInt(form.getAttribute("data-min-fen"), 10) || 1;
    var most = parseInt(form.getAttribute("data-max-fen"), 10);
    if (fen < Math.max(least, fee + 1) || (!isNaN(most) && fen > most)) {
      return null;
    }
    return template
      .replace("{amount}", yuanText(fen))
      .replace("{fee}", yuanText(fee))
      .replace("{net}", yuanText(fen - fee))
      .replace("{account}", form.getAttribute("data-account") || "");
  }
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
  // A row of filters wider than a phone shows the chosen one, not only the first few.
  var chosen = document.querySelector(".wk-filters .active, .chips strong.chip");
  var row = chosen && chosen.parentElement;
  if (row && chosen.scrollIntoView && row.scrollWidth > row.clientWidth) {
    chosen.scrollIntoView({ block: "nearest", inline: "center" });
  }
  // Opening a task's target on the platform remembers the task, so the platform's pages
  // (the sandbox here) offer the way back to it after the action.
  var step = document.querySelector("[data-step-target]");
  if (step) {
    step.addEventListener("click", function () {
      try {
        window.sessionStorage.setItem("xingdong-task", window.location.pathname);
      } catch (ignored) {}
    });
  }
  var backLabel = document.body.getAttribute("data-back-to-task");
  if (backLabel && window.location.pathname.indexOf("/sandbox") === 0) {
    var taskPath = null;
    try {
      taskPath = window.sessionStorage.getItem("xingdong-task");
    } catch (ignored) {}
    var main = document.querySelector("main");
    if (taskPath && /^\/me\/tasks\/[0-9a-f-]+$/.test(taskPath) && main) {
      var bar = document.createElement("p");
      bar.className = "notice back-to-task";
      var back = document.createElement("a");
      back.href = taskPath;
      back.setAttribute("data-back-to-task-link", "");
      back.textContent = "← " + backLabel;
      bar.appendChild(back);
      main.insertBefore(bar, main.firstChild);
    }
  }
  // A page shown in answer to a form (its errors, or a key shown once) stands at the
  // address of the page the form was on: reloading shows that page afresh instead of
  // sending the form again, and the address is one that can be opened.
  var own = document.body.getAttribute("data-page-address");
  if (window.history.replaceState && own && own.charAt(0) === "/" && own.charAt(1) !== "/") {
    window.history.replaceState(window.history.state, "", own + window.location.hash);
  }
  // A "done" message rides in the address once; drop it there so that reloading or
  // sharing the page does not say it again.
  if (window.history.replaceState && /[?&]done=/.test(window.location.search)) {
    var url = new URL(window.location.href);
    url.searchParams.delete("done");
    url.searchParams.delete("tone");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
})();
