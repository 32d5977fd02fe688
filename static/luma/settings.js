// Settings page: show the chosen provider's fields, fill the Ollama model
// dropdown from the server's models (GET /api/models/available), test the
// address and key the form holds now (POST /api/models/test), and say what the
// memory privacy screen withheld lately.
(function () {
  "use strict";
  const { api, el } = window.Luma;
  const form = document.getElementById("settings-form");
  const select = document.getElementById("id_ollama_model");
  const status = document.getElementById("models-status");
  const testStatus = document.getElementById("connection-status");

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

  function say(node, text, failed) {
    node.textContent = text;
    node.classList.toggle("error", failed);
  }

  function showOllamaModels(models, where) {
    const current = select.value;
    const names = [...models];
    if (current && !names.includes(current)) names.unshift(current);
    select.replaceChildren(...names.map((name) => el("option", {
      value: name, text: name + (models.includes(name) ? "" : " (not on the server)"),
    })));
    select.value = current && names.includes(current) ? current : names[0];
    say(status, `${models.length} model${models.length === 1 ? "" : "s"} on ${where || "the server"}.`, false);
  }

  async function loadOllamaModels() {
    say(status, "Asking the Ollama server for its models…", false);
    let providers;
    try {
      providers = await api("/api/models/available");
    } catch (e) {
      say(status, `Could not ask for models: ${e.message}`, true);
      return;
    }
    const ollama = providers.find((p) => p.provider === "ollama");
    if (!ollama || ollama.error || !ollama.models.length) {
      const why = ollama && ollama.error ? ollama.error : "The server lists no models: run `ollama pull <model>` there.";
      say(status, why, true);
      return;
    }
    showOllamaModels(ollama.models, ollama.endpoint);
  }

  // What the form holds now; an empty key field means the stored key.
  function connectionToTest() {
    const provider = chosenProvider();
    const value = (name) => (form.elements[name] ? form.elements[name].value : "");
    if (provider === "deepseek") {
      return { provider, address: value("deepseek_base_url"), api_key: value("deepseek_api_key") || null, model: value("deepseek_model") };
    }
    if (provider === "ollama") return { provider, address: value("ollama_endpoint"), model: value("ollama_model") };
    return { provider };
  }

  async function testConnection() {
    const button = document.getElementById("test-connection");
    button.disabled = true;
    say(testStatus, "Testing…", false);
    try {
      const result = await api("/api/models/test", { method: "POST", body: connectionToTest() });
      say(testStatus, result.message, !result.ok);
      if (result.ok && result.provider === "ollama" && result.models.length) showOllamaModels(result.models, result.address);
    } catch (e) {
      say(testStatus, e.message, true);
    } finally {
      button.disabled = false;
    }
  }

  // What the privacy screen withheld lately (GET /api/memory/suggestions/runs):
  // how many, of which kinds; never the facts themselves.
  async function showWithheld() {
    const node = document.getElementById("withheld-summary");
    if (!node) return;
    let runs;
    try { runs = await api("/api/memory/suggestions/runs"); } catch (e) { return; }
    const kinds = runs.withheld_categories.map((kind) => `${kind.label}: ${kind.count}`).join(", ");
    const what = runs.withheld === 1 ? "suggestion was" : "suggestions were";
    node.textContent = `In the last ${runs.days} days, ${runs.withheld} ${what} withheld (${kinds}).`;
    node.hidden = runs.withheld === 0;
  }

  form.addEventListener("change", (e) => {
    if (e.target.name === "provider") {
      showProviderFields();
      if (chosenProvider() === "ollama") loadOllamaModels();
    }
  });
  document.getElementById("refresh-models").addEventListener("click", loadOllamaModels);
  document.getElementById("test-connection").addEventListener("click", testConnection);
  showProviderFields();
  showWithheld();
  if (chosenProvider() === "ollama") loadOllamaModels();
  else status.textContent = "";
})();
