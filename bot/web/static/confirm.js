// Type-to-confirm: the confirm button stays disabled until the typed text equals the name.
// The server checks the name again, so this only saves a round trip.
for (const input of document.querySelectorAll("input[data-must-equal]")) {
  const button = input.form.querySelector("[data-confirm-button]");
  const update = () => { button.disabled = input.value.trim() !== input.dataset.mustEqual; };
  input.addEventListener("input", update);
  update();
}
