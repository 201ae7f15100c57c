// What the API said was wrong with a form (its 422 names each field), next to the fields it names.

export function showFieldErrors(form, region, error) {
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  if (!error) {
    region.textContent = "";
    return;
  }
  region.textContent = error.message;
  for (const { field } of error.fields) {
    // The API names body fields as "customer.phone"; a form's inputs carry the same names.
    const input = [...form.elements].find((candidate) => candidate.name && field.endsWith(candidate.name));
    input?.setAttribute("aria-invalid", "true");
  }
  form.querySelector("[aria-invalid]")?.focus();
}
