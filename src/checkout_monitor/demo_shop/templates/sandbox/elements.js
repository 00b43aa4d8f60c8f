/* Demo Pay hosted fields: mounts the card iframe(s) into the shop's payment form and, on
   submit, has them tokenize the card on Demo Pay's origin. The shop only gets the token. */
(function () {
  "use strict";
  var origin = {{ origin|tojson }};
  var form = document.querySelector("form[data-demo-pay]");
  if (!form) { return; }
  var here = encodeURIComponent(window.location.origin);
  var tokenInput = form.querySelector("input[data-demo-pay-token]");
  var primary = null;

  function mount(container, kind) {
    var frame = document.createElement("iframe");
    frame.id = kind + "-frame";
    frame.name = kind + "-frame";
    frame.title = "Secure card " + (kind === "card" ? "details" : kind) + " (Demo Pay)";
    frame.src = origin + "/v1/elements/" + kind + "?parent=" + here;
    frame.className = "demo-pay-frame";
    frame.style.cssText = "border:0;width:100%;display:block;height:" + (kind === "card" ? "92px" : "70px");
    container.appendChild(frame);
    return frame;
  }

  if (form.getAttribute("data-demo-pay") === "split") {
    var slots = form.querySelectorAll("[data-demo-pay-field]");
    for (var i = 0; i < slots.length; i++) {
      var kind = slots[i].getAttribute("data-demo-pay-field");
      var frame = mount(slots[i], kind);
      if (kind === "number") { primary = frame; }
    }
  } else {
    primary = mount(form.querySelector("[data-demo-pay-card]"), "card");
  }

  var busy = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy || !primary) { return; }
    busy = true;
    primary.contentWindow.postMessage({type: "demo-pay:tokenize"}, origin);
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !event.data) { return; }
    if (event.data.type === "demo-pay:token") {
      tokenInput.value = event.data.token;
      form.submit();
    } else if (event.data.type === "demo-pay:error") {
      busy = false;
    }
  });
})();
