// Sends on at once the form marked data-autosubmit: the page that carries a sign-in request to
// the identity provider. Without script (or with this file blocked) its button does the same.
document.addEventListener('DOMContentLoaded', function () {
  var f = document.querySelector('form[data-autosubmit]');
  if (f) { f.submit(); }
});
