"""Border titles for the panes."""

from __future__ import annotations

from rich.text import Text


class PaneTitles:
    """Mixin for a Textual widget: ``set_titles(title, subtitle)`` writes its border title
    and subtitle as plain text (a node called ``xs[0]`` is not console markup) and only when
    they change (each assignment repaints the whole pane)."""

    _titles: tuple[str | None, str | None] = (None, None)

    def set_titles(self, title: str | None = None, subtitle: str | None = None) -> None:
        shown_title, shown_subtitle = self._titles
        if title is not None and title != shown_title:
            self.border_title = Text(title)
            shown_title = title
        if subtitle is not None and subtitle != shown_subtitle:
            self.border_subtitle = Text(subtitle)
            shown_subtitle = subtitle
        self._titles = (shown_title, shown_subtitle)
