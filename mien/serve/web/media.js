// Getting pictures in: file pickers, drag and drop, paste, and the webcam.

const pickers = new Map();
let lastPicker = null;

function isImage(file) {
  return file && file.type.startsWith("image/");
}

class Picker {
  constructor(root, template, onCamera) {
    this.name = root.dataset.picker;
    this.multiple = root.dataset.multiple === "true";
    this.files = [];
    this.urls = [];
    root.append(template.content.cloneNode(true));
    this.root = root;
    this.drop = root.querySelector(".drop");
    this.input = root.querySelector("input[type=file]");
    this.input.id = `${this.name}-file`;
    this.input.multiple = this.multiple;
    root.querySelector(".picker-label").textContent = root.dataset.label || "Photo";
    this.picked = root.querySelector(".picked");
    this.picked.id = `${this.name}-picked`;
    this.thumbs = root.querySelector(".thumbs");
    const camera = root.querySelector(".camera-button");
    camera.id = `${this.name}-camera`;
    camera.addEventListener("click", () => onCamera(this));
    this.input.addEventListener("change", () => this.set([...this.input.files], "chosen"));
    for (const type of ["focusin", "pointerdown"]) root.addEventListener(type, () => (lastPicker = this));
    this.drop.addEventListener("dragover", (event) => {
      event.preventDefault();
      this.drop.classList.add("over");
    });
    this.drop.addEventListener("dragleave", () => this.drop.classList.remove("over"));
    this.drop.addEventListener("drop", (event) => {
      event.preventDefault();
      this.drop.classList.remove("over");
      lastPicker = this;
      this.set([...event.dataTransfer.files], "dropped");
    });
  }

  // Replace (or, for a multi-photo picker fed one at a time, add to) the chosen pictures.
  set(files, how, { add = false } = {}) {
    const images = files.filter(isImage);
    if (!images.length) {
      this.root.dispatchEvent(new CustomEvent("picker-error", { bubbles: true, detail: "That is not an image." }));
      return;
    }
    if (how !== "chosen") this.input.value = "";
    const kept = this.multiple && add ? this.files : [];
    this.files = [...kept, ...(this.multiple ? images : images.slice(0, 1))];
    for (const url of this.urls) URL.revokeObjectURL(url);
    this.urls = this.files.map((file) => URL.createObjectURL(file));
    this.thumbs.replaceChildren(
      ...this.urls.map((url, i) => {
        const img = document.createElement("img");
        img.src = url;
        img.alt = `picked photo ${i + 1}`;
        return img;
      }),
    );
    const names = this.files.map((file) => file.name || "image").join(", ");
    this.picked.textContent = `${this.files.length} photo${this.files.length === 1 ? "" : "s"} ${how}: ${names}`;
    this.root.dataset.count = String(this.files.length);
    this.root.dispatchEvent(new CustomEvent("picked", { bubbles: true, detail: this }));
  }

  get file() {
    return this.files[0];
  }
}

export function setupPickers(onCamera) {
  const template = document.getElementById("picker-template");
  for (const root of document.querySelectorAll(".picker")) {
    const picker = new Picker(root, template, onCamera);
    pickers.set(picker.name, picker);
  }
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])].filter(isImage);
    if (!files.length) return;
    const inside = [...pickers.values()].find((p) => p.root.contains(document.activeElement));
    const target = inside || lastPicker || pickers.values().next().value;
    event.preventDefault();
    target.set(files, "pasted", { add: true });
  });
  return pickers;
}

// --- the webcam ---

let stream = null;
let users = 0;

export async function openCamera(video) {
  if (!navigator.mediaDevices?.getUserMedia) throw new Error("this browser gives no webcam access (it needs https or localhost).");
  if (!stream) stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 } }, audio: false });
  users += 1;
  video.srcObject = stream;
  await video.play();
  if (!video.videoWidth) await new Promise((resolve) => video.addEventListener("loadedmetadata", resolve, { once: true }));
}

export function closeCamera(video) {
  video.pause();
  video.srcObject = null;
  users = Math.max(0, users - 1);
  if (!users && stream) {
    for (const track of stream.getTracks()) track.stop();
    stream = null;
  }
}

// The video's current frame as a JPEG blob.
export function grabFrame(video, canvas = document.createElement("canvas")) {
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not grab a frame"))), "image/jpeg", 0.9),
  );
}
