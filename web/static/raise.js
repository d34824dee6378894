// The raise page: the MASH reminder shows as soon as "significant risk now" is answered yes.
(function () {
  var form = document.getElementById('raise-form');
  var reminder = document.getElementById('mash-reminder');
  if (!form || !reminder) return;
  function update() {
    var yes = form.querySelector('input[name="significant_risk"][value="true"]');
    reminder.hidden = !(yes && yes.checked);
  }
  form.addEventListener('change', update);
  update();
})();
