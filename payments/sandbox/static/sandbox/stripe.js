/*
 * Stub Stripe.js for the offline sandbox: the slice of the real library the shop uses.
 * Stripe(publishableKey).redirectToCheckout({sessionId}) goes to the sandbox's hosted
 * checkout page, as the real (pre-2025) Stripe.js went to checkout.stripe.com.
 */
(function () {
  "use strict";

  function Stripe(publishableKey) {
    if (!(this instanceof Stripe)) {
      return new Stripe(publishableKey);
    }
    if (typeof publishableKey !== "string" || publishableKey.indexOf("pk_test_") !== 0) {
      throw new Error(
        "Stripe sandbox: a test publishable key (pk_test_...) is required, got " +
          JSON.stringify(publishableKey)
      );
    }
    this._key = publishableKey;
    this.isSandbox = true;
  }

  Stripe.prototype.redirectToCheckout = function (options) {
    var sessionId = options && options.sessionId;
    if (typeof sessionId !== "string" || sessionId.indexOf("cs_") !== 0) {
      return Promise.resolve({
        error: { type: "invalid_request_error", message: "A valid sessionId is required." },
      });
    }
    window.location.assign("/sandbox/checkout/" + encodeURIComponent(sessionId) + "/");
    // Like Stripe.js: the promise only settles if the redirect fails.
    return new Promise(function () {});
  };

  window.Stripe = Stripe;
})();
