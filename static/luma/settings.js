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
    node.textContent = `In the last ${runs.days} days, ${runs.withheld} ${what} withheld${kinds ? ` (${kinds})` : ""}.`;
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

// The persona (owner only): its fields (PUT /api/persona), its avatar (POST and DELETE
// /api/persona/avatar) and character cards (POST /api/persona/card; export links).
(function () {
  "use strict";
  const { api } = window.Luma;
  const form = document.getElementById("persona-form");
  if (!form) return;
  const status = document.getElementById("persona-status");
  const cardStatus = document.getElementById("persona-card-status");
  const avatar = document.getElementById("persona-avatar");
  const avatarReset = document.getElementById("persona-avatar-reset");
  const FIELDS = ["name", "description", "personality", "scenario", "greeting",
    "example_dialogue", "system_prompt", "post_history_instructions"];

  function say(node, text, failed) {
    node.textContent = text;
    node.classList.toggle("error", Boolean(failed));
    node.setAttribute("role", failed ? "alert" : "status");
  }

  // The persona's name and avatar wherever this page shows them.
  function show(persona) {
    for (const name of FIELDS) if (form.elements[name]) form.elements[name].value = persona[name];
    avatar.src = persona.avatar_url;
    avatar.alt = `${persona.name}'s avatar`;
    avatarReset.hidden = !persona.avatar_uploaded;
    document.dispatchEvent(new CustomEvent("luma:persona", { detail: persona }));
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {};
    for (const name of FIELDS) body[name] = form.elements[name].value;
    if (!body.name.trim()) { say(status, "The persona needs a name.", true); form.elements.name.focus(); return; }
    say(status, "Saving…");
    try {
      show(await api("/api/persona", { method: "PUT", body }));
      say(status, "Persona saved.");
    } catch (error) { say(status, `Not saved: ${error.message}`, true); }
  });

  async function upload(input, url, node, done) {
    const file = input.files[0];
    if (!file) return;
    const body = new FormData();
    body.append("file", file);
    say(node, `Uploading ${file.name}…`);
    try { done(await api(url, { method: "POST", body })); }
    catch (error) { say(node, `${file.name}: ${error.message}`, true); }
    finally { input.value = ""; }
  }

  document.getElementById("persona-avatar-input").addEventListener("change", (e) =>
    upload(e.target, "/api/persona/avatar", status, (persona) => { show(persona); say(status, "Avatar saved."); }));
  avatarReset.addEventListener("click", async () => {
    try { show(await api("/api/persona/avatar", { method: "DELETE" })); say(status, "Back to the default avatar."); }
    catch (error) { say(status, error.message, true); }
  });
  document.getElementById("persona-card-input").addEventListener("change", (e) =>
    upload(e.target, "/api/persona/card", cardStatus, (result) => {
      show(result.persona);
      say(status, "");  // the persona form's last word ("Avatar saved.") is about older news
      const made = result.memories_created;
      const lore = made ? ` Its lorebook became ${made} memor${made === 1 ? "y" : "ies"} about everyone.` : "";
      const replaced = result.memories_removed ? ` ${result.memories_removed} from the previous card were removed.` : "";
      const skipped = result.entries_skipped ? ` ${result.entries_skipped} disabled or empty entries were left out.` : "";
      say(cardStatus, `Imported ${result.persona.name}.${lore}${replaced}${skipped}`);
    }));

  // The brand in the navigation follows the persona.
  document.addEventListener("luma:persona", (e) => {
    for (const node of document.querySelectorAll("[data-persona-name]")) node.textContent = e.detail.name;
    for (const node of document.querySelectorAll("img[data-persona-avatar]")) node.src = e.detail.avatar_url;
  });
})();
