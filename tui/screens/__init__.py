"""The debugger's screens: choosing a graph, stepping through one, the key reference."""
