/*
 * Stub Stripe.js for the offline sandbox: the slice of the real library the shop uses.
 *
 * - Stripe(publishableKey).redirectToCheckout({sessionId}) goes to the sandbox's hosted
 *   checkout page, as the real (pre-2025) Stripe.js went to checkout.stripe.com: only when the
 *   script is loaded as `stripe.js?version=legacy`. The default, `version=current`, behaves as
 *   today's Stripe.js, which has no redirectToCheckout (the shop then follows the session's
 *   URL). Settings: STRIPE_SANDBOX_JS_VERSION.
 * - stripe.elements({clientSecret}).create("payment").mount(target) draws the sandbox's
 *   Payment Element: a card number, expiry and CVC (test cards as on the checkout page).
 * - stripe.confirmPayment({elements, confirmParams: {return_url}}) confirms the PaymentIntent
 *   against the sandbox and, like Stripe.js, either goes to return_url with payment_intent,
 *   payment_intent_client_secret and redirect_status appended (or to a confirmation step
 *   first, for 4000 0025 0000 3155 and 4000 0027 6000 3184), or resolves to {error} for a
 *   declined card (or one typed incompletely).
 * - The Payment Element's expiry is formatted as it is typed, as Stripe's is: "1234" shows
 *   "12 / 34" (card-fields.js, which the hosted checkout page uses too).
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

  var script = document.currentScript;
  var version = (script && new URL(script.src, window.location.href).searchParams.get("version")) ||
    "current";

  function redirectToCheckout(options) {
    var sessionId = options && options.sessionId;
    if (typeof sessionId !== "string" || sessionId.indexOf("cs_") !== 0) {
      return Promise.resolve({
        error: { type: "invalid_request_error", message: "A valid sessionId is required." },
      });
    }
    window.location.assign("/sandbox/checkout/" + encodeURIComponent(sessionId) + "/");
    // Like Stripe.js: the promise only settles if the redirect fails.
    return new Promise(function () {});
  }
  if (version === "legacy") {
    Stripe.prototype.redirectToCheckout = redirectToCheckout;
  }

  // Expiry fields format as typed (card-fields.js, shared with the hosted checkout page),
  // loaded beside this script as Stripe.js loads its own pieces.
  var cardFieldsUrl = script ? new URL("card-fields.js", script.src).href : null;
  function withCardFields(callback) {
    if (window.sandboxCardFields) {
      callback(window.sandboxCardFields);
      return;
    }
    var waiting = (withCardFields.waiting = withCardFields.waiting || []);
    waiting.push(callback);
    if (waiting.length === 1 && cardFieldsUrl) {
      var tag = document.createElement("script");
      tag.src = cardFieldsUrl;
      tag.addEventListener("load", function () {
        waiting.splice(0).forEach(function (waiter) {
          waiter(window.sandboxCardFields);
        });
      });
      document.head.appendChild(tag);
    }
  }

  function Elements(stripe, options) {
    if (!options || typeof options.clientSecret !== "string") {
      throw new Error("Stripe sandbox: elements() needs {clientSecret}.");
    }
    this._stripe = stripe;
    this._clientSecret = options.clientSecret;
    this._payment = null;
  }

  Elements.prototype.create = function (type) {
    if (type !== "payment") {
      throw new Error("Stripe sandbox: only the 'payment' element is modelled, not " + type);
    }
    this._payment = new PaymentElement();
    return this._payment;
  };

  function field(name, label, placeholder, autocomplete) {
    var wrapper = document.createElement("label");
    wrapper.textContent = label + " ";
    var input = document.createElement("input");
    input.name = name;
    input.placeholder = placeholder;
    input.autocomplete = autocomplete;
    input.setAttribute("data-sandbox-field", name);
    wrapper.appendChild(input);
    return { wrapper: wrapper, input: input };
  }

  function PaymentElement() {
    this._inputs = null;
  }

  PaymentElement.prototype.mount = function (target) {
    var container = typeof target === "string" ? document.querySelector(target) : target;
    if (!container) {
      throw new Error("Stripe sandbox: nothing to mount the Payment Element on.");
    }
    container.innerHTML = "";
    var box = document.createElement("div");
    box.className = "sandbox-payment-element";
    // Like Stripe's own element, it lays out its fields itself (CSSOM, which the CSP allows).
    box.style.display = "grid";
    box.style.gap = "0.75rem";
    var number = field("number", "Card number", "4242 4242 4242 4242", "cc-number");
    var expiry = field("expiry", "Expiry", "MM / YY", "cc-exp");
    withCardFields(function (fields) {
      fields.formatExpiryAsTyped(expiry.input);
    });
    var cvc = field("cvc", "CVC", "123", "cc-csc");
    [number, expiry, cvc].forEach(function (f) {
      box.appendChild(f.wrapper);
    });
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent =
      "Sandbox test cards: 4242 4242 4242 4242 pays; 4000 0000 0000 0002 is declined; " +
      "4000 0025 0000 3155 and 4000 0027 6000 3184 ask for a 3-D Secure step. " +
      "Any future expiry and any CVC.";
    box.appendChild(hint);
    container.appendChild(box);
    this._inputs = { number: number.input, expiry: expiry.input, cvc: cvc.input };
  };

  PaymentElement.prototype._card = function () {
    if (!this._inputs) {
      return null;
    }
    return {
      number: this._inputs.number.value,
      expiry: this._inputs.expiry.value,
      cvc: this._inputs.cvc.value,
    };
  };

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options);
  };

  Stripe.prototype.confirmPayment = async function (options) {
    var elements = options && options.elements;
    var returnUrl = options && options.confirmParams && options.confirmParams.return_url;
    if (!elements || !elements._payment || !elements._payment._card()) {
      return { error: { type: "invalid_request_error", message: "Mount the Payment Element first." } };
    }
    if (!returnUrl) {
      return {
        error: { type: "invalid_request_error", message: "confirmParams.return_url is required." },
      };
    }
    var intentId = elements._clientSecret.split("_secret_")[0];
    var response = await fetch("/sandbox/payment_intents/" + encodeURIComponent(intentId) + "/confirm/", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({
        client_secret: elements._clientSecret,
        publishable_key: this._key,
        card: elements._payment._card(),
        return_url: returnUrl,
      }),
    });
    var result = await response.json();
    if (result.redirect) {
      window.location.assign(result.redirect);
      return new Promise(function () {});
    }
    return { error: result.error || { type: "api_error", message: "Unexpected sandbox answer." } };
  };

  window.Stripe = Stripe;
})();
