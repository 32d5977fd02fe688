// Settings page: show the chosen provider's fields, fill the Ollama model
// dropdown from the server's models (GET /api/models/available).
(function () {
  "use strict";
  const { api, el } = window.Luma;
  const form = document.getElementById("settings-form");
  const select = document.getElementById("id_ollama_model");
  const status = document.getElementById("models-status");

  function chosenProvider() {
    const checked = form.querySelector('input[name="provider"]:checked');
    return checked ? checked.value : "";
  }

  function showProviderFields() {
    const provider = chosenProvider();
    for (const section of form.querySelectorAll(".provider-fields")) {
      section.hidden = section.dataset.provider !== provider;
    }
  }

  async function loadOllamaModels() {
    status.textContent = "Asking the Ollama server for its models…";
    status.classList.remove("error");
    let providers;
    try {
      providers = await api("/api/models/available");
    } catch (e) {
      status.textContent = `Could not ask for models: ${e.message}`;
      status.classList.add("error");
      return;
    }
    const ollama = providers.find((p) => p.provider === "ollama");
    const current = select.value;
    if (!ollama || ollama.error || !ollama.models.length) {
      const why = ollama && ollama.error ? ollama.error : "The server lists no models.";
      status.textContent = `No Ollama endpoint answered: ${why} Start Ollama (or fix the endpoint, save, and press Refresh).`;
      status.classList.add("error");
      return;
    }
    const names = [...ollama.models];
    if (current && !names.includes(current)) names.unshift(current);
    select.replaceChildren(...names.map((name) => el("option", {
      value: name, text: name + (ollama.models.includes(name) ? "" : " (not on the server)"),
    })));
    select.value = current && names.includes(current) ? current : names[0];
    status.textContent = `${ollama.models.length} model${ollama.models.length === 1 ? "" : "s"} on ${ollama.endpoint || "the server"}.`;
  }

  form.addEventListener("change", (e) => {
    if (e.target.name === "provider") {
      showProviderFields();
      if (chosenProvider() === "ollama") loadOllamaModels();
    }
  });
  document.getElementById("refresh-models").addEventListener("click", loadOllamaModels);
  showProviderFields();
  if (chosenProvider() === "ollama") loadOllamaModels();
  else status.textContent = "";
})();
