// A campaign's statement: the Print button asks the browser to print the page (the
// print styles leave out the menu and the buttons). Without scripts the button stays
// hidden and the browser's own menu prints.
(function () {
  "use strict";
  var button = document.querySelector("[data-print]");
  if (!button || typeof window.print !== "function") {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    window.print();
  });
})();
