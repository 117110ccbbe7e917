// The Edit section: face swap, try-on (a photo, or live from the webcam), morph and mean face,
// and the same edits on a video through the job API. Every result is marked as edited.

import { ApiError, api, describeError } from "./api.js";
import { closeCamera, grabFrame, openCamera } from "./media.js";

const MAKEUP = ["lipstick", "blush", "eyeliner", "eyeshadow", "foundation"];

function stem(file, fallback = "photo") {
  return (file?.name || fallback).replace(/\.[^.]+$/, "");
}

function extension(dataUrl) {
  const type = /^data:image\/([a-z]+)/.exec(dataUrl)?.[1] || "png";
  return type === "jpeg" ? "jpg" : type;
}

// An edited picture (data URL) shown in #<prefix>-image with a download link named <base>-<what>.<ext>.
function showEdited(ui, prefix, result, { alt, base, what, summary }) {
  const { $ } = ui;
  const image = $(`${prefix}-image`);
  image.src = result.image;
  image.alt = `Edited: ${alt}`;
  const link = $(`${prefix}-download`);
  link.href = result.image;
  link.download = `${base}-${what}.${extension(result.image)}`;
  $(`${prefix}-summary`).textContent = summary;
  $(`${prefix}-result`).hidden = false;
  const notice = $(`${prefix}-notice`);
  if (notice) ui.showNotice(notice, result);
}

// The try-on options as the form fields of /v1/edit/tryon (and its video job).
function tryonOptions($, { png = true } = {}) {
  const form = { strength: $("tryon-strength").value };
  if ($("tryon-glasses").value) form.glasses = $("tryon-glasses").value;
  const frame = $("tryon-glasses-png").files[0];
  if (png && frame) form.glasses_png = frame;
  if ($("tryon-frame-on").checked) form.frame_colour = $("tryon-frame").value;
  for (const name of MAKEUP) if ($(`tryon-${name}-on`).checked) form[name] = $(`tryon-${name}`).value;
  return form;
}

function describeTryon(form) {
  const parts = [];
  if (form.glasses_png) parts.push("glasses from a PNG");
  else if (form.glasses) parts.push(`${form.glasses} glasses`);
  for (const name of MAKEUP) if (form[name]) parts.push(`${name} ${form[name]}`);
  return parts.join(", ") || "nothing";
}

function setupSwap(pickers, ui) {
  const { $, say, busy, onSubmit, needPhoto } = ui;
  const source = pickers.get("swap-source");
  const target = pickers.get("swap-target");
  onSubmit("swap-form", async (button) => {
    if (!needPhoto(source, "the face to use (source)") || !needPhoto(target, "the photo to put it in (target)")) return;
    // the consent is the server's to check: without it the API refuses, and the page says why
    const result = await busy("Swapping faces", button, () =>
      api("/v1/edit/swap", { form: { source: source.file, target: target.file, consent: $("swap-consent").checked } }),
    );
    if (!result) {
      if ($("status").textContent.includes("consent")) $("swap-consent").focus();
      return;
    }
    showEdited(ui, "swap", result, {
      alt: `the face of ${source.file.name || "the source"} put into ${target.file.name || "the target"}`,
      base: stem(target.file), what: "swapped",
      summary: `face swap: ${source.file.name || "source"} onto ${target.file.name || "target"}, consent recorded`,
    });
    say("Faces swapped: the edited photo is below, with a download link.", "ok");
  });
}

function setupTryon(pickers, ui) {
  const { $, say, busy, onSubmit, needPhoto } = ui;
  const picker = pickers.get("tryon");
  $("tryon-strength").addEventListener("input", () => ($("tryon-strength-value").textContent = $("tryon-strength").value));
  // choosing a colour turns that make-up on
  for (const name of [...MAKEUP, "frame"]) {
    $(`tryon-${name}`).addEventListener("input", () => ($(`tryon-${name}-on`).checked = true));
  }
  onSubmit("tryon-form", async (button) => {
    if (!needPhoto(picker)) return;
    const form = tryonOptions($);
    const result = await busy("Trying on", button, () => api("/v1/edit/tryon", { form: { ...form, image: picker.file } }));
    if (!result) return;
    const what = describeTryon(form);
    showEdited(ui, "tryon", result, { alt: `try-on of ${what}`, base: stem(picker.file), what: "tryon", summary: `try-on: ${what}` });
    say("Try-on done: the edited photo is below, with a download link.", "ok");
  });
  setupLiveTryon(ui);
}

// --- live try-on: webcam frames sent to /v1/edit/tryon one after another ---

function setupLiveTryon(ui) {
  const { $, say } = ui;
  const live = { on: false, timer: 0, grab: document.createElement("canvas"), times: [] };

  const stop = (message) => {
    if (!live.on) return;
    live.on = false;
    clearTimeout(live.timer);
    closeCamera($("tryon-live-video"));
    $("tryon-live-start").disabled = false;
    $("tryon-live-stop").disabled = true;
    $("tryon-live-stage").hidden = true;
    $("tryon-fps").textContent = "";
    delete $("tryon-fps").dataset.fps;
    if (message) say(message, "info");
  };

  const showRate = () => {
    const t = live.times;
    if (t.length < 2) return;
    const fps = (1000 * (t.length - 1)) / (t[t.length - 1] - t[0]);
    $("tryon-fps").textContent = `Live try-on: ${fps.toFixed(1)} frames/s`;
    $("tryon-fps").dataset.fps = fps.toFixed(2);
  };

  const tick = async () => {
    if (!live.on) return;
    let wait = 0; // the next frame as soon as this one is back
    try {
      const frame = await grabFrame($("tryon-live-video"), live.grab);
      const result = await api("/v1/edit/tryon", { form: { ...tryonOptions($, { png: true }), image: frame } });
      if (!live.on) return;
      $("tryon-live-image").src = result.image;
      live.times = [...live.times, performance.now()].slice(-10);
      showRate();
    } catch (err) {
      if (!live.on) return;
      if (err instanceof ApiError && err.code === "no_face") $("tryon-fps").textContent = "Live try-on: no face in view";
      else if (err instanceof ApiError && (err.status === 429 || err.status === 503)) {
        wait = 1000 * Math.max(1, Number(err.retryAfter) || 2);
        say(describeError(err), "error");
      } else {
        say(`Live try-on stopped: ${describeError(err)}`, "error");
        stop();
        return;
      }
    }
    live.timer = setTimeout(tick, wait);
  };

  $("tryon-live-start").addEventListener("click", async () => {
    const form = tryonOptions($);
    if (describeTryon(form) === "nothing") {
      say("Choose glasses or a make-up colour for the try-on first.", "error");
      $("tryon-glasses").focus();
      return;
    }
    $("tryon-live-stage").hidden = false;
    try {
      await openCamera($("tryon-live-video"));
    } catch (err) {
      $("tryon-live-stage").hidden = true;
      say(`Webcam: ${err.message}`, "error");
      return;
    }
    live.on = true;
    live.times = [];
    $("tryon-live-start").disabled = true;
    $("tryon-live-stop").disabled = false;
    $("tryon-live-stop").focus();
    say(`Live try-on running: ${describeTryon(form)}.`, "ok");
    tick();
  });
  $("tryon-live-stop").addEventListener("click", () => stop("Live try-on stopped."));
  document.addEventListener("key-forgotten", () => stop());
}

function setupMorph(pickers, ui) {
  const { $, say, busy, onSubmit, needPhoto } = ui;
  const picker = pickers.get("morph");
  onSubmit("morph-form", async (button) => {
    if (!needPhoto(picker, "two or more photos")) return;
    const mean = $("morph-mean").checked;
    if (!mean && picker.files.length < 2) {
      say("A morph needs two or more photos (a mean face can use one or more).", "error");
      picker.input.focus();
      return;
    }
    const frames = Number($("morph-frames").value);
    if (!mean && (!Number.isInteger(frames) || frames < 2 || frames > 120)) {
      say("Frames must be a whole number from 2 to 120.", "error");
      $("morph-frames").focus();
      return;
    }
    const result = await busy(mean ? "Averaging the faces" : "Morphing", button, () =>
      api("/v1/edit/morph", { form: { images: picker.files, mean: mean || undefined, frames: mean ? undefined : frames } }),
    );
    if (!result) return;
    const report = result.report || {};
    let summary;
    if (mean) {
      const skipped = report.skipped || [];
      summary = `mean face of ${report.faces} photo${report.faces === 1 ? "" : "s"}` +
        (skipped.length ? `; skipped ${skipped.map((s) => `${s.image} (${s.reason})`).join("; ")}` : "");
    } else {
      summary = `morph through ${(report.faces || []).length} faces, ${report.frames} frames (GIF)`;
    }
    showEdited(ui, "morph", result, { alt: summary, base: mean ? "mean-face" : "morph", what: "edited", summary });
    $("morph-image").dataset.kind = mean ? "mean" : "morph";
    say(mean ? "Mean face made: it is below, with a download link." : "Morph made: the GIF is below, with a download link.", "ok");
  });
}

function setupVideo(pickers, ui) {
  const { $, say, busy, onSubmit, needPhoto, runJob } = ui;
  const facts = (job, blob) => {
    const report = job.result || {};
    const out = [`${Math.round(blob.size / 1024)} KiB`];
    if (report.frames !== undefined) out.push(`${report.frames} frames`);
    return out.join(", ");
  };
  const needVideo = (input) => {
    if (input.files[0]) return true;
    say("Choose a video file first.", "error");
    input.focus();
    return false;
  };
  const source = pickers.get("swap-video-source");
  onSubmit("swap-video-form", async (button) => {
    if (!needPhoto(source, "the face to use (source)") || !needVideo($("swap-video-file"))) return;
    const video = $("swap-video-file").files[0];
    await busy("Swapping the face in the video", button, async () => {
      const { job, blob } = await runJob("/v1/edit/jobs/swap-video",
        { source: source.file, video, consent: $("swap-video-consent").checked },
        { prefix: "edit-job", label: "Swapping the face in the video", name: `${stem(video, "video")}-swapped.mp4` });
      $("edit-job-summary").textContent = `Done (edited: face swap): ${facts(job, blob)}.`;
      say("Video edited: use the download link below.", "ok");
    });
  });
  onSubmit("tryon-video-form", async (button) => {
    if (!needVideo($("tryon-video-file"))) return;
    const video = $("tryon-video-file").files[0];
    const form = tryonOptions($, { png: false });
    await busy("Trying on in the video", button, async () => {
      const { job, blob } = await runJob("/v1/edit/jobs/tryon-video", { ...form, video },
        { prefix: "edit-job", label: "Trying on in the video", name: `${stem(video, "video")}-tryon.mp4` });
      $("edit-job-summary").textContent = `Done (edited: try-on of ${describeTryon(form)}): ${facts(job, blob)}.`;
      say("Video edited: use the download link below.", "ok");
    });
  });
}

export function setupEdit(pickers, ui) {
  setupSwap(pickers, ui);
  setupTryon(pickers, ui);
  setupMorph(pickers, ui);
  setupVideo(pickers, ui);
}
