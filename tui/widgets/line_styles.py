"""Styles for widgets that draw their own lines (the Line API)."""

from __future__ import annotations

from rich.style import Style


class CachedStyles:
    """Mixin for a Textual widget: ``line_style(component)`` is the widget's own style plus
    a component class's, looked up once per CSS update.  Looking a style up walks the DOM
    and costs more than drawing the line, and a redraw asks for it on every line."""

    _line_styles: dict | None = None

    def notify_style_update(self) -> None:
        self._line_styles = None
        super().notify_style_update()

    def line_style(self, component: str | None = None) -> Style:
        if self._line_styles is None:
            self._line_styles = {}
        style = self._line_styles.get(component)
        if style is None:
            style = self.rich_style
            if component is not None:
                style = style + self.get_component_rich_style(component)
            self._line_styles[component] = style
        return style
