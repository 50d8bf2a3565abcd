/*
 * The sandbox's card fields, as Stripe's behave: an expiry is formatted as it is typed
 * ("1234" shows "12 / 34"). Used by the stub Stripe.js's Payment Element and by the hosted
 * checkout page, whose inputs marked data-sandbox-field="expiry" it formats on load.
 */
(function () {
  "use strict";

  // "1" -> "1", "12" -> "12 / ", "1234" -> "12 / 34", "2" -> "02 / ", "12/2034" -> "12 / 34".
  // While deleting, the separator goes with the year's last digit, so backspace never sticks.
  function formatExpiry(raw, deleting) {
    var slash = raw.indexOf("/");
    var month;
    var year;
    if (slash >= 0) {
      month = raw.slice(0, slash).replace(/\D/g, "");
      year = raw.slice(slash + 1).replace(/\D/g, "");
      if (month.length === 1 && year) {
        month = "0" + month;
      }
    } else {
      var digits = raw.replace(/\D/g, "");
      month = digits.slice(0, 2);
      year = digits.length === 6 ? digits.slice(2) : digits.slice(2, 4);
      if (month.length === 1 && month > "1") {
        month = "0" + month;
      } else if (month.length === 2 && parseInt(month, 10) > 12) {
        year = month.charAt(1) + year;
        month = "0" + month.charAt(0);
      }
    }
    if (year.length === 4) {
      year = year.slice(2);
    }
    month = month.slice(0, 2);
    year = year.slice(0, 2);
    if (month.length < 2 || (deleting && !year)) {
      return month;
    }
    return month + " / " + year;
  }

  function formatExpiryAsTyped(input) {
    if (input.hasAttribute("data-sandbox-formatted")) {
      return;
    }
    input.setAttribute("data-sandbox-formatted", "");
    input.setAttribute("inputmode", "numeric");
    input.addEventListener("input", function (event) {
      var deleting = Boolean(event.inputType && event.inputType.indexOf("delete") === 0);
      var formatted = formatExpiry(input.value, deleting);
      if (formatted !== input.value) {
        input.value = formatted;
      }
    });
    if (input.value) {
      input.value = formatExpiry(input.value, false);
    }
  }

  window.sandboxCardFields = { formatExpiry: formatExpiry, formatExpiryAsTyped: formatExpiryAsTyped };

  function formatPageFields() {
    document.querySelectorAll('input[data-sandbox-field="expiry"]').forEach(formatExpiryAsTyped);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", formatPageFields);
  } else {
    formatPageFields();
  }

})();
