"""network.yaml: the typed model, its JSON Schema, and loading with located errors."""
