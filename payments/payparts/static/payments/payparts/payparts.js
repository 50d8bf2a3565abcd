/*
 * Pay in parts: ask our server to create the payment at PrivatBank
 * (GET /buy/...?rail=payparts&parts=N answers {"id", "url"}), then send the buyer to the
 * bank's page. A refusal or an outage is said in words beside the button.
 */
(function () {
  "use strict";

  var form = document.getElementById("payparts-form");
  if (!form) {
    return;
  }
  var button = document.getElementById("payparts-button");
  var ui = window.busyButton(button, document.getElementById("payparts-error"),
    "Redirecting to PrivatBank\u2026");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    ui.clearError();
    ui.setBusy(true);
    var url = new URL(form.dataset.buyUrl, window.location.href);
    url.searchParams.set("rail", "payparts");
    url.searchParams.set("parts", form.elements.parts.value);
    var data = null;
    var ok = false;
    try {
      var response = await fetch(url, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      ok = response.ok;
      data = await response.json();
    } catch (error) {
      data = { error: "We could not reach the shop. Check your connection and try again." };
    }
    if (ok && data && data.url) {
      window.location.assign(data.url);
      return;
    }
    ui.setBusy(false);
    ui.showError((data && data.error) || "Something went wrong. Please try again.");
  });
})();
