"""One module per capability: service (health, metrics, keys' view), faces, gallery, media."""
