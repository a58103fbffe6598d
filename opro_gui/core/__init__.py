"""The OPRO loop and its value types; imports nothing else of ours and no Qt."""
