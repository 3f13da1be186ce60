"""``graphviz-ad practice``: the practice screen on its own, for one graph."""

from __future__ import annotations

from textual.app import App

from .screens.practice import PracticeScreen


class PracticeApp(App):
    """Opens a :class:`PracticeScreen`; leaving it quits.  ``score`` is the session's score
    when it ends."""

    CSS_PATH = "app.tcss"
    TITLE = "graphviz-ad practice"

    def __init__(self, graph, exercises, notes=(), graphviz_layout: bool = False):
        super().__init__()
        self.practice = PracticeScreen(graph, exercises, notes, quit_on_leave=True,
                                       graphviz_layout=graphviz_layout)

    def on_mount(self) -> None:
        self.push_screen(self.practice)

    @property
    def score(self):
        return self.practice.score


def run_practice(graph, exercises, notes=()):
    """Practise ``exercises`` on ``graph`` in the terminal; return the score when it quits."""
    app = PracticeApp(graph, exercises, notes)
    app.run()
    if app.return_code:
        raise SystemExit(app.return_code)
    return app.score
