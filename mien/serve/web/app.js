// mien's web page: every feature is one form that calls one /v1 route.

import { api, ApiError, describeError, events, forgetKey, getKey, request, setKey } from "./api.js";
import { BOX_COLOUR, UNKNOWN_COLOUR, drawBox, drawFaces, drawPicture, loadBitmap } from "./draw.js";
import { setupEdit } from "./edit.js";
import { setupFace3d } from "./face3d.js";
import { setupCollection } from "./collection.js";
import { closeCamera, grabFrame, openCamera, setupPickers } from "./media.js";

const $ = (id) => document.getElementById(id);

// --- messages and progress ---

function say(text, kind = "info") {
  const status = $("status");
  status.textContent = text;
  status.dataset.kind = kind;
}

let running = 0;

// Run one long request: progress shown, the button disabled, any error said.
// A quiet one (a refresh after another action) leaves the status line to that action.
async function busy(label, button, work, { quiet = false } = {}) {
  running += 1;
  $("busy").hidden = false;
  $("busy-text").textContent = `${label}…`;
  if (button) {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
  }
  if (!quiet) say(`${label}…`, "busy");
  try {
    return await work();
  } catch (err) {
    say(describeError(err), "error");
    if (err instanceof ApiError && err.status === 401) {
      forgetKey();
      showKeyForm();
    }
    return undefined;
  } finally {
    running -= 1;
    if (!running) $("busy").hidden = true;
    if (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    }
  }
}

function onSubmit(id, handler) {
  const form = $(id);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    handler(form.querySelector("button[type=submit]"));
  });
}

function needPhoto(picker, what = "a photo") {
  if (picker.file) return true;
  say(`Choose ${what} first (pick, drop, paste or take one with the webcam).`, "error");
  picker.input.focus();
  return false;
}

function pct(value) {
  return `${Math.round(value * 100)}%`;
}

function num(value, digits = 3) {
  return typeof value === "number" ? value.toFixed(digits).replace(/\.?0+$/, "") || "0" : "–";
}

function showNotice(element, result) {
  const models = result.non_commercial_models || [];
  element.hidden = !models.length;
  element.textContent = models.length
    ? `Not for commercial use: ${models.map((m) => `${m.model} (${m.license})`).join("; ")}.`
    : "";
}

// --- the key ---

function showKeyForm() {
  $("key-form").hidden = false;
  $("whoami").hidden = true;
}

async function useKey(key, button) {
  const who = await busy("Checking the key", button, () => api("/v1/whoami", { key }));
  if (!who) return;
  setKey(key);
  $("api-key").value = "";
  $("whoami-name").textContent = who.name;
  $("whoami-id").textContent = who.key_id;
  $("whoami-scopes").textContent = (who.scopes || []).join(", ");
  $("whoami-gallery").textContent = who.gallery;
  $("key-form").hidden = true;
  $("whoami").hidden = false;
  say(`Signed in as ${who.name} (${(who.scopes || []).join(", ")}) on gallery ${who.gallery}.`, "ok");
  if ((who.scopes || []).some((s) => s === "identify" || s === "admin")) refreshPeople(null, { quiet: true });
}

function setupKey() {
  onSubmit("key-form", (button) => {
    const key = $("api-key").value.trim();
    if (key) useKey(key, button);
  });
  $("forget-key").addEventListener("click", () => {
    forgetKey();
    stopLive();
    document.dispatchEvent(new CustomEvent("key-forgotten"));
    showKeyForm();
    $("people-list").replaceChildren();
    $("people-summary").textContent = "";
    say("Key forgotten.", "info");
    $("api-key").focus();
  });
  const stored = getKey();
  if (stored) useKey(stored, $("key-save"));
}

// --- analyse ---

function faceItem(face, i) {
  const li = document.createElement("li");
  li.dataset.testid = "face";
  const parts = [];
  if (face.age) {
    const range = face.age.interval ? ` (${Math.round(face.age.interval[0])}–${Math.round(face.age.interval[1])})` : "";
    parts.push(["Age", `${Math.round(face.age.value)}${range}`]);
  }
  if (face.gender) parts.push(["Gender", `${face.gender.value} (${pct(face.gender.probability)})`]);
  if (face.expression) parts.push(["Expression", `${face.expression.value} (${pct(face.expression.probability)})`]);
  if (face.pose) parts.push(["Pose", `yaw ${num(face.pose.yaw, 1)}°, pitch ${num(face.pose.pitch, 1)}°, roll ${num(face.pose.roll, 1)}°`]);
  if (face.quality) {
    const q = face.quality;
    parts.push(["Quality", q.passed ? "pass" : `fail (${(q.failed || []).join(", ")})`, q.passed ? "pass" : "fail"]);
  }
  if (face.liveness) {
    const scores = Object.values(face.liveness)
      .filter((s) => s && typeof s.real === "number")
      .map((s) => `${s.model} ${pct(s.real)} real`);
    parts.push(["Liveness (experimental)", scores.join(", ") || "–"]);
  }
  const title = document.createElement("strong");
  title.textContent = `Face ${i + 1} (detector score ${num(face.score, 2)})`;
  const dl = document.createElement("dl");
  dl.className = "facts";
  for (const [name, value, mark] of parts) {
    const dt = document.createElement("dt");
    dt.textContent = name;
    const dd = document.createElement("dd");
    dd.textContent = value;
    dd.dataset.field = name.split(" ")[0].toLowerCase();
    if (mark) dd.dataset.mark = mark;
    dl.append(dt, dd);
  }
  li.append(title, dl);
  return li;
}

function setupAnalyze(pickers) {
  const picker = pickers.get("analyze");
  let last = null; // the latest analysis, redrawn when the mesh box changes
  const draw = () => {
    const { result, bitmap } = last;
    const canvas = $("analyze-canvas");
    const scale = drawPicture(canvas, bitmap, result.width || bitmap.width, result.height || bitmap.height);
    drawFaces(canvas, result.faces, scale, { mesh: $("analyze-mesh").checked });
    canvas.dataset.faces = String(result.faces.length);
  };
  $("analyze-mesh").addEventListener("change", () => {
    if (!last) return;
    if ($("analyze-mesh").checked && !last.mesh) say("Press Analyse again to get the mesh.", "info");
    else draw();
  });
  onSubmit("analyze-form", async (button) => {
    if (!needPhoto(picker)) return;
    const mesh = $("analyze-mesh").checked;
    const result = await busy("Analysing", button, () =>
      api("/v1/analyze", {
        form: {
          image: picker.file,
          mesh,
          quality: $("analyze-quality").checked,
          liveness: $("analyze-liveness").checked,
        },
      }),
    );
    if (!result) return;
    last = { result, bitmap: await loadBitmap(picker.file), mesh };
    draw();
    $("faces-count").textContent = `faces found: ${result.faces.length}`;
    $("faces-count").dataset.count = String(result.faces.length);
    $("analyze-faces").replaceChildren(...result.faces.map(faceItem));
    showNotice($("analyze-notice"), result);
    say(`Analysed: ${result.faces.length} face${result.faces.length === 1 ? "" : "s"} found.`, "ok");
  });
}

// --- verify ---

function setupVerify(pickers) {
  const a = pickers.get("verify-a");
  const b = pickers.get("verify-b");
  onSubmit("verify-form", async (button) => {
    if (!needPhoto(a, "the first photo") || !needPhoto(b, "the second photo")) return;
    const result = await busy("Verifying", button, () =>
      api("/v1/verify", { form: { image_a: a.file, image_b: b.file, fmr: $("verify-fmr").value } }),
    );
    if (!result) return;
    const decision = result.same ? "same person" : "different people";
    $("verify-decision").textContent = decision;
    $("verify-decision").dataset.same = String(result.same);
    $("verify-distance").textContent = num(result.distance, 4);
    $("verify-threshold").textContent = `${num(result.threshold, 4)} (false match rate ${result.target_fmr ?? result.fmr})`;
    $("verify-similarity").textContent = num(result.similarity, 4);
    $("verify-model").textContent = `${result.model || "–"}${result.calibration ? `, calibrated on ${result.calibration}` : ""}`;
    $("verify-result").hidden = false;
    showNotice($("verify-notice"), result);
    say(`Verified: ${decision} (distance ${num(result.distance, 3)}, threshold ${num(result.threshold, 3)}).`, "ok");
  });
}

// --- gallery ---

function confirmRemove(name) {
  const dialog = $("confirm-dialog");
  $("confirm-text").textContent = `Remove ${name} from the gallery? Their templates and records are erased; this cannot be undone.`;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

function personRow(person) {
  const li = document.createElement("li");
  li.dataset.testid = "person-row";
  li.dataset.name = person.name;
  const name = document.createElement("span");
  name.className = "person-name";
  name.textContent = person.name;
  const info = document.createElement("span");
  info.className = "help";
  const consent = person.consent;
  const purpose = consent && (consent.purpose || consent.purposes);
  info.textContent = ` ${person.templates} template${person.templates === 1 ? "" : "s"}` +
    (purpose ? `, consent: ${purpose}${consent.expires ? ` until ${consent.expires}` : ""}` : "");
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "danger";
  remove.textContent = "Remove";
  remove.setAttribute("aria-label", `Remove ${person.name}`);
  remove.addEventListener("click", async () => {
    if (!(await confirmRemove(person.name))) {
      remove.focus();
      return;
    }
    const receipt = await busy(`Removing ${person.name}`, remove, () =>
      api(`/v1/gallery/identities/${encodeURIComponent(person.name)}`, { method: "DELETE" }),
    );
    if (!receipt) return;
    await refreshPeople(null, { quiet: true });
    const digest = receipt.digest || receipt.receipt_hash;
    say(`Removed ${person.name}${digest ? ` (erasure receipt ${digest.slice(0, 12)}…)` : ""}.`, "ok");
    $("people-refresh").focus();
  });
  li.append(name, info, remove);
  return li;
}

async function refreshPeople(button, { quiet = false } = {}) {
  const result = await busy("Loading the gallery", button, () => api("/v1/gallery/identities"), { quiet });
  if (!result) return;
  const people = result.identities || [];
  $("people-list").replaceChildren(...people.map(personRow));
  const gallery = result.gallery || {};
  $("people-summary").textContent = `${people.length} ${people.length === 1 ? "person" : "people"} in gallery ${gallery.name ?? ""}` +
    (gallery.model ? ` (model ${gallery.model})` : "");
  if (!quiet) say(`Gallery loaded: ${people.length} ${people.length === 1 ? "person" : "people"}.`, "ok");
}

function identityOf(match) {
  return match.identity ?? null;
}

function boxOf(match) {
  return match.box || match.face?.box;
}

// Boxes named "who" (or "unknown") over a picture or a video frame.
function drawNamed(canvas, matches, scale) {
  const ctx = canvas.getContext("2d");
  const names = matches.map((m) => identityOf(m) || "unknown");
  matches.forEach((match, i) => {
    const box = boxOf(match);
    if (box) drawBox(ctx, box, scale, names[i] === "unknown" ? UNKNOWN_COLOUR : BOX_COLOUR, names[i]);
  });
  canvas.dataset.boxes = String(matches.filter(boxOf).length);
  return names;
}

async function showIdentify(result, photo) {
  const matches = result.faces || [result];
  const first = matches[0] || {};
  const names = matches.map((m) => identityOf(m) || "unknown");
  $("identify-label").textContent = result.faces ? `Faces (${matches.length})` : "Best match";
  $("identify-name").textContent = names.join(", ") || "no face";
  $("identify-name").dataset.decision = matches.map((m) => m.decision).join(",");
  $("identify-decision").textContent = matches.map((m) => m.decision).join(", ");
  $("identify-score").textContent = matches.map((m) => num(m.score, 4)).join(", ");
  $("identify-threshold").textContent = `${num(first.threshold, 4)} (target FPIR ${first.target_fpir ?? "–"})`;
  $("identify-size").textContent = String(first.gallery_size ?? "–");
  $("identify-candidates").replaceChildren(
    ...(result.faces ? [] : first.candidates || []).map((c) => {
      const li = document.createElement("li");
      li.textContent = `${c.identity}: ${num(c.score, 4)}${c.passed ? " (passes the threshold)" : ""}`;
      return li;
    }),
  );
  const canvas = $("identify-canvas");
  const bitmap = await loadBitmap(photo);
  drawNamed(canvas, matches, drawPicture(canvas, bitmap, bitmap.width, bitmap.height));
  $("identify-result").hidden = false;
  showNotice($("identify-notice"), result);
  const known = names.filter((n) => n !== "unknown");
  if (result.faces) say(`Identified ${matches.length} face${matches.length === 1 ? "" : "s"}: ${names.join(", ") || "none"}.`, "ok");
  else say(known.length ? `Identified: ${known[0]} (score ${num(first.score, 3)}).` : "Identified: unknown, nobody in the gallery matches.", "ok");
}

function setupGallery(pickers) {
  const enrol = pickers.get("enrol");
  onSubmit("enrol-form", async (button) => {
    const name = $("enrol-name").value.trim();
    if (!name) {
      say("Give the person a name.", "error");
      $("enrol-name").focus();
      return;
    }
    if (!needPhoto(enrol, "one or more photos")) return;
    const expires = $("enrol-expires").value;
    const consent = $("enrol-consent").value.trim();
    if (expires && !consent) {
      say("An expiry date needs a consent purpose.", "error");
      $("enrol-consent").focus();
      return;
    }
    const result = await busy(`Enrolling ${name}`, button, () =>
      api("/v1/gallery/enrol", {
        form: { name, images: enrol.files, consent, expires, force: $("enrol-force").checked || undefined },
      }),
    );
    if (!result) return;
    const added = result.added ?? result.templates_added ?? enrol.files.length;
    const forced = (result.forced || []).length;
    say(`Enrolled ${result.identity}: ${added} template${added === 1 ? "" : "s"} added` +
      (forced ? `, ${forced} below the quality checks (forced)` : "") + ".", "ok");
    await refreshPeople(null, { quiet: true });
  });
  $("people-refresh").addEventListener("click", (event) => refreshPeople(event.currentTarget));

  const identify = pickers.get("identify");
  onSubmit("identify-form", async (button) => {
    if (!needPhoto(identify)) return;
    const photo = identify.file;
    const result = await busy("Identifying", button, () =>
      api("/v1/gallery/identify", { form: { image: photo, all_faces: $("identify-all").checked || undefined } }),
    );
    if (result) await showIdentify(result, photo);
  });

  $("live-start").addEventListener("click", startLive);
  $("live-stop").addEventListener("click", () => stopLive("Live identify stopped."));
}

// --- live identify ---

const live = { on: false, timer: 0, grab: document.createElement("canvas") };

async function startLive() {
  const video = $("live-video");
  $("live-stage").hidden = false;
  try {
    await openCamera(video);
  } catch (err) {
    $("live-stage").hidden = true;
    say(`Webcam: ${err.message}`, "error");
    return;
  }
  live.on = true;
  $("live-start").disabled = true;
  $("live-stop").disabled = false;
  $("live-stop").focus();
  say("Live identify running: one frame a second.", "ok");
  liveTick();
}

function stopLive(message) {
  if (!live.on) return;
  live.on = false;
  clearTimeout(live.timer);
  closeCamera($("live-video"));
  $("live-start").disabled = false;
  $("live-stop").disabled = true;
  const canvas = $("live-canvas");
  canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
  $("live-stage").hidden = true;
  $("live-names").textContent = "";
  if (message) say(message, "info");
}

function drawLive(faces, width, height) {
  const canvas = $("live-canvas");
  canvas.width = width; // also clears it
  canvas.height = height;
  const names = drawNamed(canvas, faces, 1);
  $("live-names").textContent = faces.length ? `In view: ${names.join(", ")}` : "In view: no face";
  $("live-names").dataset.names = names.join(",");
}

async function liveTick() {
  if (!live.on) return;
  const video = $("live-video");
  const started = performance.now();
  let wait = 1000;
  try {
    const frame = await grabFrame(video, live.grab);
    const result = await api("/v1/gallery/identify", { form: { image: frame, all_faces: true } });
    if (!live.on) return;
    drawLive(result.faces || [result], live.grab.width, live.grab.height);
  } catch (err) {
    if (!live.on) return;
    if (err instanceof ApiError && err.code === "no_face") drawLive([], live.grab.width, live.grab.height);
    else if (err instanceof ApiError && (err.status === 429 || err.status === 503)) {
      wait = 1000 * Math.max(1, Number(err.retryAfter) || 2);
      say(describeError(err), "error");
    } else {
      say(`Live identify stopped: ${describeError(err)}`, "error");
      stopLive();
      return;
    }
  }
  live.timer = setTimeout(liveTick, Math.max(0, wait - (performance.now() - started)));
}

// --- anonymise ---

function setupAnonymize(pickers) {
  const picker = pickers.get("anon");
  onSubmit("anon-form", async (button) => {
    if (!needPhoto(picker)) return;
    const result = await busy("Anonymising the photo", button, () =>
      api("/v1/anonymize", { form: { image: picker.file, method: $("anon-method").value } }),
    );
    if (!result) return;
    const report = result.report || {};
    const hidden = report.masked ?? (Array.isArray(report.faces) ? report.faces.length : undefined);
    $("anon-image").src = result.image;
    $("anon-download").href = result.image;
    const base = (picker.file.name || "photo").replace(/\.[^.]+$/, "");
    const type = /^data:image\/([a-z]+)/.exec(result.image)?.[1] || "png";
    $("anon-download").download = `${base}-anonymised.${type === "jpeg" ? "jpg" : type}`;
    $("anon-summary").textContent = `Anonymised with ${report.method || $("anon-method").value}` +
      (hidden !== undefined ? `: ${hidden} face${hidden === 1 ? "" : "s"} hidden.` : ".");
    $("anon-result").hidden = false;
    showNotice($("anon-notice"), result);
    say("Photo anonymised: the result is below, with a download link.", "ok");
  });

  onSubmit("video-form", async (button) => {
    const file = $("video-file").files[0];
    if (!file) {
      say("Choose a video file first.", "error");
      $("video-file").focus();
      return;
    }
    await busy("Anonymising the video", button, () => runVideoJob(file));
  });
}

// A job's progress in the elements named after `prefix` (#job, #job-state, #job-progress, ...).
function showJob(job, prefix, label) {
  $(`${prefix}-state`).textContent = job.state;
  $(`${prefix}-progress`).value = Math.min(1, Math.max(0, job.progress || 0));
  $(`${prefix}-progress`).textContent = pct(job.progress || 0);
  $(prefix).dataset.state = job.state;
  $("busy-text").textContent = `${label}: ${job.state} ${pct(job.progress || 0)}…`;
}

// Follow the job's events; fall back to polling when the stream fails or ends early.
async function follow(id, show) {
  try {
    for await (const event of events(`/v1/jobs/${id}/events`)) {
      show(event);
      if (event.state === "done" || event.state === "failed") break;
    }
  } catch (err) {
    if (err instanceof ApiError && err.status && err.status !== 404) throw err;
  }
  for (;;) {
    const job = await api(`/v1/jobs/${id}`);
    show(job);
    if (job.state === "done" || job.state === "failed") return job;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const jobUrls = {};

// Start a video job at `path`, follow it to the end and offer its video for download as `name`.
async function runJob(path, form, { prefix, label, name }) {
  const link = $(`${prefix}-download`);
  link.hidden = true;
  $(`${prefix}-summary`).textContent = "";
  const started = await api(path, { form });
  const id = started.job;
  const show = (job) => showJob(job, prefix, label);
  $(`${prefix}-id`).textContent = id;
  $(prefix).hidden = false;
  show(started);
  say(`Video job ${id} queued.`, "busy");
  const job = await follow(id, show);
  if (job.state === "failed") {
    const error = job.error || {};
    throw new ApiError(500, error.code || "failed", `the video job failed: ${error.message || "no reason given"}`);
  }
  const response = await request(`/v1/jobs/${id}/result`);
  const blob = await response.blob();
  if (jobUrls[prefix]) URL.revokeObjectURL(jobUrls[prefix]);
  jobUrls[prefix] = URL.createObjectURL(blob);
  link.href = jobUrls[prefix];
  link.download = name;
  link.hidden = false;
  link.dataset.bytes = String(blob.size);
  return { job, blob };
}

async function runVideoJob(file) {
  const { job, blob } = await runJob("/v1/jobs/anonymize-video", { video: file, method: $("anon-method").value },
    { prefix: "job", label: "Anonymising the video", name: `${file.name.replace(/\.[^.]+$/, "")}-anonymised.mp4` });
  const report = job.result || {};
  const facts = [`${Math.round(blob.size / 1024)} KiB`];
  if (report.frames !== undefined) facts.push(`${report.frames} frames`);
  if (report.faces_hidden !== undefined) facts.push(`${report.faces_hidden} faces hidden`);
  $("job-summary").textContent = `Done: ${facts.join(", ")}.`;
  say("Video anonymised: use the download link below.", "ok");
}

// --- generate ---

function setupGenerate() {
  onSubmit("generate-form", async (button) => {
    const count = Number($("gen-count").value);
    if (!Number.isInteger(count) || count < 1 || count > 16) {
      say("Count must be a whole number from 1 to 16.", "error");
      $("gen-count").focus();
      return;
    }
    const result = await busy(`Generating ${count} face${count === 1 ? "" : "s"}`, button, () =>
      api("/v1/generate", { form: { count, seed: $("gen-seed").value } }),
    );
    if (!result) return;
    $("gen-results").replaceChildren(
      ...result.images.map((item, i) => {
        const li = document.createElement("li");
        li.dataset.testid = "generated-face";
        const figure = document.createElement("figure");
        const img = document.createElement("img");
        img.src = item.image;
        img.alt = `Generated face ${i + 1} (not a real person)`;
        const caption = document.createElement("figcaption");
        const badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = "GENERATED";
        const params = item.provenance?.params || {};
        const seed = item.seed ?? params.seed;
        const facts = [result.model, item.condition, seed !== undefined && seed !== null ? `seed ${seed}` : "",
          params.index !== undefined ? `no. ${params.index + 1}` : ""];
        caption.append(badge, ` ${facts.filter(Boolean).join(", ")}`);
        const details = document.createElement("details");
        const summary = document.createElement("summary");
        summary.textContent = "Provenance";
        const pre = document.createElement("pre");
        pre.textContent = JSON.stringify(item.provenance ?? {}, null, 1);
        details.append(summary, pre);
        figure.append(img, caption, details);
        li.append(figure);
        return li;
      }),
    );
    showNotice($("gen-notice"), result);
    say(`Generated ${result.images.length} face${result.images.length === 1 ? "" : "s"}, each marked as generated.`, "ok");
  });
}

// --- the camera dialog (a webcam frame for any photo picker) ---

function setupCameraDialog() {
  const dialog = $("camera-dialog");
  const video = $("camera-video");
  let target = null;
  const close = () => {
    if (dialog.open) dialog.close();
  };
  dialog.addEventListener("close", () => {
    if (video.srcObject) closeCamera(video);
    target?.input.focus();
  });
  $("camera-cancel").addEventListener("click", close);
  $("camera-capture").addEventListener("click", async () => {
    try {
      const blob = await grabFrame(video);
      const file = new File([blob], `webcam-${new Date().toISOString().slice(11, 19).replace(/:/g, "")}.jpg`, { type: "image/jpeg" });
      target.set([file], "taken with the webcam", { add: true });
      say("Webcam frame taken.", "ok");
    } catch (err) {
      say(`Webcam: ${err.message}`, "error");
    }
    close();
  });
  return async (picker) => {
    target = picker;
    $("camera-capture").disabled = true; // until the first frame is there
    dialog.showModal();
    try {
      await openCamera(video);
      $("camera-capture").disabled = false;
      $("camera-capture").focus();
    } catch (err) {
      close();
      say(`Webcam: ${err.message}`, "error");
    }
  };
}

function main() {
  const pickers = setupPickers(setupCameraDialog());
  document.addEventListener("picker-error", (event) => say(event.detail, "error"));
  setupKey();
  setupAnalyze(pickers);
  setupVerify(pickers);
  setupGallery(pickers);
  setupAnonymize(pickers);
  setupGenerate();
  const ui = { $, say, busy, onSubmit, needPhoto, showNotice, num, runJob };
  setupEdit(pickers, ui);
  setupFace3d(pickers, ui);
  setupCollection(pickers, ui);
  window.addEventListener("unhandledrejection", (event) => say(describeError(event.reason), "error"));
  document.body.dataset.ready = "true";
}

main();
