// Drawing faces over a picture on a canvas.

export const BOX_COLOUR = "#00e000";
export const UNKNOWN_COLOUR = "#ff9800";
const POINT_COLOUR = "#ff1744";
const MESH_COLOUR = "rgba(0, 200, 255, 0.8)";

// Pixels of canvas per pixel of picture: small photos drawn larger, big ones smaller.
export function scaleFor(width, height, target = 640) {
  return Math.min(4, target / Math.max(width, height, 1));
}

export function loadBitmap(blob) {
  return createImageBitmap(blob, { imageOrientation: "from-image" });
}

// The picture, scaled onto the canvas; returns the scale used.
export function drawPicture(canvas, picture, width, height) {
  const scale = scaleFor(width, height);
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext("2d");
  ctx.drawImage(picture, 0, 0, canvas.width, canvas.height);
  return scale;
}

export function drawBox(ctx, box, scale, colour, label) {
  const [x1, y1, x2, y2] = box.map((v) => v * scale);
  ctx.lineWidth = Math.max(2, Math.round(ctx.canvas.width / 300));
  ctx.strokeStyle = colour;
  ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
  if (!label) return;
  const size = Math.max(12, Math.round(ctx.canvas.width / 40));
  ctx.font = `${size}px system-ui, sans-serif`;
  const width = ctx.measureText(label).width + 8;
  const top = y1 - size - 6 >= 0 ? y1 - size - 6 : y2;
  ctx.fillStyle = colour;
  ctx.fillRect(x1, top, width, size + 6);
  ctx.fillStyle = "#000";
  ctx.fillText(label, x1 + 4, top + size);
}

function dots(ctx, points, scale, colour, radius) {
  ctx.fillStyle = colour;
  for (const [x, y] of points) {
    ctx.beginPath();
    ctx.arc(x * scale, y * scale, radius, 0, 2 * Math.PI);
    ctx.fill();
  }
}

// Boxes, 5 landmarks and (when asked and present) the mesh of every face.
export function drawFaces(canvas, faces, scale, { mesh = false } = {}) {
  const ctx = canvas.getContext("2d");
  let meshPoints = 0;
  faces.forEach((face, i) => {
    if (mesh && Array.isArray(face.mesh)) {
      dots(ctx, face.mesh, scale, MESH_COLOUR, Math.max(1, scale * 0.4));
      meshPoints += face.mesh.length;
    }
    drawBox(ctx, face.box, scale, BOX_COLOUR, String(i + 1));
    if (Array.isArray(face.landmarks)) dots(ctx, face.landmarks, scale, POINT_COLOUR, Math.max(2, scale));
  });
  canvas.dataset.boxes = String(faces.length);
  canvas.dataset.meshPoints = String(meshPoints);
}
