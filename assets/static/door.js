// The door page: scan a ticket's QR code with the phone camera where the browser offers
// BarcodeDetector; typing the code always works without it.
(function () {
  var button = document.getElementById("scan-button");
  var video = document.getElementById("scan-video");
  var input = document.getElementById("door-code");
  var form = document.getElementById("door-form");
  // After a result, the field is ready for the next code without scrolling the result away
  // (on a phone the autofocus would).
  if (input && document.querySelector(".door-result")) { input.focus({ preventScroll: true }); }
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.srcObject = stream;
      video.hidden = false;
      video.play();
      var timer = setInterval(function () {
        detector.detect(video).then(function (codes) {
          if (codes.length > 0) {
            clearInterval(timer);
            stream.getTracks().forEach(function (t) { t.stop(); });
            input.value = codes[0].rawValue;
            form.submit();
          }
        }).catch(function () {});
      }, 300);
    }).catch(function () { button.hidden = true; });
  });
})();
