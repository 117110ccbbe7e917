// The photo library: the people found in an indexed collection, their contact sheets, names and
// merges, and search by face.

import { api, request } from "./api.js";

const sheets = new Map(); // person id -> blob: URL of its contact sheet, revoked on refresh

// One correction on a person: a control, a submit button, the call, what to say, then a refresh.
function editForm(control, buttonText, busyText, ui, refresh, call, said) {
  const form = document.createElement("form");
  form.className = "row";
  const button = document.createElement("button");
  button.type = "submit";
  button.textContent = buttonText;
  form.append(control, button);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await ui.busy(busyText, button, call);
    if (done) {
      ui.say(said(done), "ok");
      refresh(true);
    }
  });
  return form;
}

function item(person, others, ui, refresh) {
  const li = document.createElement("li");
  li.dataset.person = String(person.id);
  const title = document.createElement("p");
  title.className = "person-title";
  title.textContent = `${person.name || `Person ${person.id}`}: ${person.size} faces in ${person.images} photos`;
  li.append(title);
  const img = document.createElement("img");
  img.alt = `Faces of ${person.name || `person ${person.id}`}`;
  img.width = 336;
  li.append(img);
  request(`/v1/collection/people/${person.id}/sheet`)
    .then((r) => r.blob())
    .then((blob) => {
      const url = URL.createObjectURL(blob);
      sheets.set(person.id, url);
      img.src = url;
    })
    .catch(() => {
      img.alt = "Contact sheet unavailable";
    });

  const nameInput = document.createElement("input");
  nameInput.type = "text";
  nameInput.required = true;
  nameInput.maxLength = 200;
  nameInput.placeholder = "Name";
  nameInput.setAttribute("aria-label", `Name for person ${person.id}`);
  nameInput.value = person.name || "";
  li.append(
    editForm(nameInput, "Name", "Naming", ui, refresh,
      () => api(`/v1/collection/people/${person.id}/name`, { json: { name: nameInput.value } }),
      (done) => `Named person ${done.id} ${done.name}.`),
  );

  if (others.length) {
    const select = document.createElement("select");
    select.setAttribute("aria-label", `Person to merge into person ${person.id}`);
    for (const other of others) {
      const option = document.createElement("option");
      option.value = String(other.id);
      option.textContent = other.name || `Person ${other.id}`;
      select.append(option);
    }
    li.append(
      editForm(select, "Merge into this person", "Merging", ui, refresh,
        () => api(`/v1/collection/people/${person.id}/merge`, { json: { other: Number(select.value) } }),
        (done) => `Merged: person ${done.id} now has ${done.size} faces.`),
    );
  }
  return li;
}

export function setupCollection(pickers, ui) {
  const { $, say, busy, onSubmit, needPhoto } = ui;
  const picker = pickers.get("collection");

  function show(info, listing) {
    for (const url of sheets.values()) URL.revokeObjectURL(url);
    sheets.clear();
    $("collection-summary").textContent =
      `${info.images} photos, ${info.faces} faces, ${listing.people.length} people ` +
      `(${listing.unassigned} faces left out by the quality gate: blurred, tiny or turned away).`;
    const list = $("collection-people");
    list.replaceChildren();
    const shown = listing.people.slice(0, 24);
    for (const person of shown) {
      list.append(item(person, shown.filter((p) => p.id !== person.id), ui, refresh));
    }
  }

  async function refresh(quiet = false) {
    const got = await busy("Loading the library", $("collection-refresh"), async () => [
      await api("/v1/collection"),
      await api("/v1/collection/people?limit=1"),
    ], { quiet });
    if (got) show(...got);
  }

  async function cluster(full, button) {
    const listing = await busy(full ? "Grouping all faces" : "Grouping new faces", button, () =>
      api("/v1/collection/cluster", { json: { full } }),
    );
    if (!listing) return;
    say(`${listing.people.length} people; ${listing.assigned} of ${listing.faces} faces assigned.`, "ok");
    refresh(true);
  }

  $("collection-refresh").addEventListener("click", () => refresh());
  $("collection-cluster").addEventListener("click", (e) => cluster(false, e.currentTarget));
  $("collection-recluster").addEventListener("click", (e) => cluster(true, e.currentTarget));

  onSubmit("collection-search-form", async (button) => {
    if (!needPhoto(picker)) return;
    const result = await busy("Searching the library", button, () =>
      api("/v1/collection/search", { form: { image: picker.file, largest: "true" } }),
    );
    if (!result) return;
    $("collection-search-result").hidden = false;
    $("collection-search-facts").textContent =
      `${result.photos} photos within distance ${result.threshold} (false-match rate ${result.fmr}; ` +
      `about ${result.expected_false.toFixed(2)} chance matches among ${result.faces_searched} faces).`;
    const list = $("collection-hits");
    list.replaceChildren();
    for (const hit of result.hits) {
      const li = document.createElement("li");
      const who = hit.person === null ? "" : `, person ${hit.person}`;
      li.textContent = `${hit.path} (distance ${hit.distance.toFixed(3)}${who})`;
      list.append(li);
    }
    say(result.photos ? `Found ${result.photos} photos.` : "No photo of this person in the library.", "ok");
  });
}
