/*
 * A pay button that shows it is working (disabled, aria-busy, a busy label) and an error box
 * that says in words what went wrong. Shared by buy.js (Checkout) and pay.js (Payment Element).
 */
(function () {
  "use strict";

  window.busyButton = function (button, errorBox, busyLabel) {
    var label = button.textContent;

    function setBusy(busy) {
      button.disabled = busy;
      button.setAttribute("aria-busy", busy ? "true" : "false");
      button.textContent = busy ? busyLabel : label;
    }

    // Coming back with the browser's Back button restores the page from the back/forward
    // cache as it was left: busy. Make the button usable again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        setBusy(false);
      }
    });

    return {
      setBusy: setBusy,
      showError: function (message) {
        errorBox.textContent = message;
        errorBox.hidden = false;
      },
      clearError: function () {
        errorBox.hidden = true;
      },
    };
  };
})();
