"""The media: one module per media (its whole declaration), the shapes they declare, the registry.

- `declare`: the keyword-only shapes a media is declared in (`MediaDefinition` and its parts);
- `errors`: the typed API errors each media's code table maps its body codes to;
- `registry`: every known media, discovered (`all_media()`, `media(name)`);
- one module per media, each exporting `MEDIA`.
"""
