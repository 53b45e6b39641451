"""The web layer: app-wide dependencies, middleware, error rendering, layout and assets."""
