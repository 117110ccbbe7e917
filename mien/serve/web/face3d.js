// The face in 3D: measurements with their uncertainty, a what-if simulation, the avatar in a viewer.

import { ApiError, api, request } from "./api.js";

const THREE_FILE = "/static/vendor/three/build/three.module.js";

function label(name) {
  const text = name.replace(/_/g, " ");
  return text === "ipd" ? "IPD (pupil distance)" : text[0].toUpperCase() + text.slice(1);
}

function sentence(text) {
  const out = text[0].toUpperCase() + text.slice(1);
  return /[.!?]$/.test(out) ? out : `${out}.`;
}

function cell(tag, text, field) {
  const element = document.createElement(tag);
  element.textContent = text;
  if (field) element.dataset.field = field;
  if (tag === "th") element.scope = "row";
  return element;
}

function setupMeasure(picker, ui) {
  const { $, say, busy, onSubmit, needPhoto, showNotice, num } = ui;
  onSubmit("measure-form", async (button) => {
    if (!needPhoto(picker)) return;
    const result = await busy("Measuring", button, () =>
      api("/v1/measure", { form: { image: picker.file, ipd_mm: $("measure-ipd").value } }),
    );
    if (!result) return;
    const measures = Object.entries(result.measures || {});
    $("measure-table").querySelector("tbody").replaceChildren(
      ...measures.map(([name, m]) => {
        const tr = document.createElement("tr");
        tr.dataset.measure = name;
        const empty = m.value === null || m.value === undefined;
        if (empty) tr.dataset.empty = "true";
        const unit = m.unit === "ratio" ? "" : ` ${m.unit}`;
        tr.append(
          cell("th", label(name)),
          cell("td", empty ? "–" : `${num(m.value, 1)}${unit}`, "value"),
          cell("td", m.uncertainty === null || m.uncertainty === undefined ? "–" : `± ${num(m.uncertainty, 1)}${unit}`, "uncertainty"),
          cell("td", m.reason || "", "reason"),
        );
        return tr;
      }),
    );
    $("measure-notice").textContent = sentence(result.notice || "research measurement, not a diagnosis");
    const pose = result.pose || {};
    const scale = result.scale || {};
    const facts = [`yaw ${num(pose.yaw, 1)}°, pitch ${num(pose.pitch, 1)}°, roll ${num(pose.roll, 1)}°`];
    if (scale.mm_per_px) facts.push(`${num(scale.mm_per_px, 4)} mm per pixel (scale error ${num(100 * scale.relative_error, 1)}%)`);
    if (result.quality) facts.push(`quality ${result.quality.passed ? "pass" : `fail (${(result.quality.failed || []).join(", ")})`}`);
    $("measure-facts").textContent = `Photo: ${facts.join("; ")}.`;
    showNotice($("measure-models"), result);
    $("measure-result").hidden = false;
    const left = measures.filter(([, m]) => m.value === null || m.value === undefined).length;
    say(`Measured: ${measures.length - left} measures${left ? `, ${left} left empty (the table says why)` : ""}.`, "ok");
  });
}

function setupSimulate(picker, ui) {
  const { $, say, busy, onSubmit, needPhoto, showNotice } = ui;
  const inputs = [...document.querySelectorAll("#simulate-form input[type=number][data-edit]")];
  for (const number of inputs) {
    const range = $(`${number.id}-range`);
    range.addEventListener("input", () => (number.value = range.value));
    number.addEventListener("input", () => (range.value = number.value));
  }
  let before = "";
  onSubmit("simulate-form", async (button) => {
    if (!needPhoto(picker)) return;
    const form = { image: picker.file };
    const changes = [];
    for (const number of inputs) {
      const value = Number(number.value);
      if (!Number.isFinite(value) || value < Number(number.min) || value > Number(number.max)) {
        say(`${number.labels[0].textContent}: choose a value in that range.`, "error");
        number.focus();
        return;
      }
      form[number.dataset.edit] = value;
      if (value) changes.push(`${number.dataset.edit.replace(/_/g, " ")} ${value > 0 ? "+" : ""}${value}${number.dataset.unit === "%" ? "%" : " mm"}`);
    }
    if (!changes.length) {
      say("Move at least one slider: with every change at 0 there is nothing to simulate.", "error");
      inputs[0].focus();
      return;
    }
    const result = await busy("Simulating", button, () => api("/v1/simulate", { form }));
    if (!result) return;
    if (before) URL.revokeObjectURL(before);
    before = URL.createObjectURL(picker.file);
    $("simulate-before").src = before;
    $("simulate-after").src = result.image;
    $("simulate-summary").textContent = `simulated: ${changes.join(", ")}`;
    $("simulate-notice").textContent = sentence(result.report?.notice || "a what-if simulation, not a prediction");
    $("simulate-download").href = result.image;
    $("simulate-download").download = `${(picker.file.name || "photo").replace(/\.[^.]+$/, "")}-simulated.png`;
    showNotice($("simulate-models"), result);
    $("simulate-result").hidden = false;
    say(`Simulated ${changes.join(", ")}: before and after are below.`, "ok");
  });
}

// The viewer module (three.js from mien's model store); when three.js is not there, the server's
// answer for its file says which command installs it.
async function loadViewer() {
  try {
    return await import("./viewer.js");
  } catch (err) {
    await request(THREE_FILE); // throws the server's message (model_not_installed) if that is why
    throw new ApiError(0, "viewer", `the 3D viewer could not start: ${err.message}`);
  }
}

function setupAvatar(picker, ui) {
  const { $, say, busy, onSubmit, needPhoto } = ui;
  const spin = $("avatar-spin");
  let viewer = null;
  let url = "";
  const setSpin = (on) => {
    viewer?.setSpin(on);
    spin.setAttribute("aria-pressed", String(on));
    spin.textContent = on ? "Stop turning" : "Turn";
  };
  spin.addEventListener("click", () => setSpin(!viewer?.spinning));
  $("avatar-viewer").addEventListener("keydown", (event) => {
    if (!viewer || (event.key !== "ArrowLeft" && event.key !== "ArrowRight")) return;
    event.preventDefault();
    setSpin(false);
    viewer.turnBy(event.key === "ArrowLeft" ? -0.15 : 0.15);
  });
  onSubmit("avatar-form", async (button) => {
    if (!needPhoto(picker)) return;
    await busy("Making the avatar", button, async () => {
      const response = await request("/v1/avatar", { form: { image: picker.file } });
      const blob = new Blob([await response.blob()], { type: "model/gltf-binary" });
      viewer?.dispose();
      viewer = null;
      spin.disabled = true;
      if (url) URL.revokeObjectURL(url);
      url = URL.createObjectURL(blob);
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] ||
        `${(picker.file.name || "face").replace(/\.[^.]+$/, "")}.glb`;
      $("avatar-download").href = url;
      $("avatar-download").download = name;
      $("avatar-download").dataset.bytes = String(blob.size);
      $("avatar-summary").textContent = `${name}: ${Math.round(blob.size / 1024)} KiB glTF binary.`;
      $("avatar-result").hidden = false;
      const module = await loadViewer();
      const still = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      viewer = await module.showAvatar($("avatar-viewer"), url, { spin: !still });
      spin.disabled = false;
      setSpin(!still);
      $("avatar-summary").textContent = `${name}: ${Math.round(blob.size / 1024)} KiB glTF binary, ` +
        `${$("avatar-viewer").dataset.vertices} vertices.`;
      say("Avatar made: it turns in the viewer below (arrow keys turn it when stopped), with a download link.", "ok");
    });
  });
}

export function setupFace3d(pickers, ui) {
  const picker = pickers.get("face3d");
  setupMeasure(picker, ui);
  setupSimulate(picker, ui);
  setupAvatar(picker, ui);
}
