"""A layout that places its items left to right and wraps them onto more rows when the width
runs out: rows of buttons and check boxes that never clip in a narrow dock."""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QWidget


class FlowLayout(QLayout):
    """Items keep their size hints; a row ends where the next item would not fit. An item
    added with ``add_widget(w, stretch=True)`` takes the rest of its row."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._stretchy: set[int] = set()  # ids of items that widen to the end of their row
        self.setSpacing(spacing)
        self.setContentsMargins(QMargins(0, 0, 0, 0))

    def add_widget(self, widget: QWidget, stretch: bool = False) -> None:
        self.addWidget(widget)
        if stretch:
            self._stretchy.add(id(self._items[-1]))

    # -- QLayout ---------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:  # Qt override
        self._items.append(item)

    def count(self) -> int:  # Qt override
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # Qt override
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # Qt override
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self._stretchy.discard(id(item))
        return item

    def expandingDirections(self) -> Qt.Orientation:  # Qt override
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # Qt override
        return True

    def heightForWidth(self, width: int) -> int:  # Qt override
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:  # Qt override
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # Qt override
        """Everything on one row."""
        visible = self._visible()
        m = self.contentsMargins()
        width = sum(i.sizeHint().width() for i in visible) + self.spacing() * max(
            len(visible) - 1, 0
        )
        height = max((i.sizeHint().height() for i in visible), default=0)
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:  # Qt override
        """One item per row: as wide as the widest item."""
        size = QSize()
        for item in self._visible():
            size = size.expandedTo(item.minimumSize()).expandedTo(item.sizeHint())
        m = self.contentsMargins()
        return size + QSize(m.left() + m.right(), m.top() + m.bottom())

    # -- internals -------------------------------------------------------------------------
    def _visible(self) -> list[QLayoutItem]:
        return [i for i in self._items if not i.isEmpty()]

    def _arrange(self, rect: QRect, move: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        rows: list[list[QLayoutItem]] = [[]]
        x = area.x()
        for item in self._visible():
            w = item.sizeHint().width()
            if rows[-1] and x + w > area.right() + 1:
                rows.append([])
                x = area.x()
            rows[-1].append(item)
            x += w + self.spacing()
        y = area.y()
        for row in rows:
            height = max((i.sizeHint().height() for i in row), default=0)
            x = area.x()
            for n, item in enumerate(row):
                hint = item.sizeHint()
                width = hint.width()
                if id(item) in self._stretchy and n == len(row) - 1:
                    width = max(width, area.right() + 1 - x)
                if move:
                    item.setGeometry(QRect(QPoint(x, y), QSize(width, height)))
                x += width + self.spacing()
            y += height + (self.spacing() if row else 0)
        used = y - area.y() - (self.spacing() if rows[-1] else 0)
        return max(used, 0) + m.top() + m.bottom()


def flow_row(*widgets: QWidget, stretch_last: bool = False) -> QWidget:
    """A widget holding ``widgets`` in a FlowLayout (usable inside other layouts)."""
    holder = QWidget()
    flow = FlowLayout(holder)
    for n, w in enumerate(widgets):
        flow.add_widget(w, stretch=stretch_last and n == len(widgets) - 1)
    policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    holder.setSizePolicy(policy)
    return holder
