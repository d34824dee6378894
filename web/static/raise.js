// The raise page: the MASH reminder shows as soon as "significant risk now" is answered yes, and the Child
// Protection Plan / Looked After question only while the challenge is about a child (an adult has neither).
(function () {
  var form = document.getElementById('raise-form');
  var reminder = document.getElementById('mash-reminder');
  if (!form || !reminder) return;
  var childOnly = document.getElementById('field-cp_or_lac');
  function update() {
    var yes = form.querySelector('input[name="significant_risk"][value="true"]');
    reminder.hidden = !(yes && yes.checked);
    var adult = form.querySelector('input[name="subject_kind"][value="adult"]');
    if (childOnly) {
      var forAdult = !!(adult && adult.checked);
      childOnly.hidden = forAdult;
      childOnly.querySelectorAll('input').forEach(function (input) { input.disabled = forAdult; });
    }
  }
  form.addEventListener('change', update);
  update();
})();
