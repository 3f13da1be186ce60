"""The debugger's panes."""
