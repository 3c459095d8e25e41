"""The bindings generator: provider schema front ends, the IR, the emitter and validation."""
