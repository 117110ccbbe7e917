// The avatar turning in a three.js viewer. three.js is served by mien from its model store
// (/static/vendor/three/, `mien models pull --all`); the import map in index.html names "three" and
// "three/addons/", as three.js's own examples do.

import * as THREE from "three";
import { GLTFLoader } from "three/addons/loaders/GLTFLoader.js";

const TURN = 0.9; // radians either side of facing the camera: the avatar is a face, not a head

// Show the glb at `url` in `container`; returns { spinning, setSpin(on), turnBy(radians), dispose() }.
export async function showAvatar(container, url, { spin = true } = {}) {
  const gltf = await new GLTFLoader().loadAsync(url);
  const width = Math.max(200, Math.min(480, container.clientWidth || 480));
  const height = Math.round(width * 1.1);
  // preserveDrawingBuffer: what is drawn stays readable (a screenshot, a test's readback)
  const renderer = new THREE.WebGLRenderer({ antialias: true, preserveDrawingBuffer: true });
  renderer.setPixelRatio(Math.min(2, window.devicePixelRatio || 1));
  renderer.setSize(width, height);
  renderer.domElement.dataset.testid = "avatar-canvas";
  container.replaceChildren(renderer.domElement);

  const scene = new THREE.Scene();
  scene.background = new THREE.Color(0x303030);
  scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2.2));
  const key = new THREE.DirectionalLight(0xffffff, 1.5);
  key.position.set(1, 1, 2);
  scene.add(key);

  // centre the face on a pivot that turns about the vertical axis
  const model = gltf.scene;
  const box = new THREE.Box3().setFromObject(model);
  const size = box.getSize(new THREE.Vector3());
  model.position.sub(box.getCenter(new THREE.Vector3()));
  const pivot = new THREE.Group();
  pivot.add(model);
  scene.add(pivot);
  const reach = Math.max(size.x, size.y, size.z) || 1;
  const camera = new THREE.PerspectiveCamera(30, width / height, reach / 100, reach * 20);
  camera.position.set(0, 0, reach * 2.4);
  camera.lookAt(0, 0, 0);

  const state = { spinning: spin, angle: 0, phase: 0, frames: 0, last: performance.now() };
  renderer.setAnimationLoop((now) => {
    const dt = Math.min(0.1, (now - state.last) / 1000);
    state.last = now;
    if (state.spinning) {
      state.phase += dt * 0.8;
      state.angle = TURN * Math.sin(state.phase);
    }
    pivot.rotation.y = state.angle;
    renderer.render(scene, camera);
    state.frames += 1;
    if (state.frames % 10 === 1) container.dataset.frames = String(state.frames);
  });
  container.dataset.vertices = String(countVertices(model));

  return {
    get spinning() {
      return state.spinning;
    },
    setSpin(on) {
      state.spinning = on;
    },
    turnBy(radians) {
      state.angle = Math.max(-Math.PI, Math.min(Math.PI, state.angle + radians));
      state.phase = Math.asin(Math.max(-1, Math.min(1, state.angle / TURN)));
    },
    dispose() {
      renderer.setAnimationLoop(null);
      renderer.dispose();
      container.replaceChildren();
    },
  };
}

function countVertices(object) {
  let n = 0;
  object.traverse((node) => {
    if (node.isMesh) n += node.geometry.attributes.position.count;
  });
  return n;
}
