"""Finds clipped controls: a visible control smaller than the size its layout promises it, or
lying outside the visible area of its parents (unless a scroll area can scroll to it)."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QTabBar,
    QTabWidget,
    QWidget,
)

CONTROLS = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QLabel)
_SHRINK = QSizePolicy.PolicyFlag.ShrinkFlag.value


def _is_internal(w: QWidget, pane: QWidget) -> bool:
    """Parts of a composite widget (a spin box's line edit, a table's corner button, a tab
    bar's scroll arrows): their owner is checked instead."""
    p = w.parentWidget()
    while p is not None and p is not pane:
        if isinstance(p, QComboBox | QAbstractSpinBox | QTabBar | QAbstractItemView):
            return True
        p = p.parentWidget()
    return False


def _needed(policy: QSizePolicy.Policy, hint: int, min_hint: int, explicit: int) -> int:
    """The smallest extent a layout gives the widget (Qt's qSmartMinSize rule)."""
    if explicit > 0:
        return explicit
    if policy == QSizePolicy.Policy.Ignored:
        return 0
    if policy.value & _SHRINK:
        return max(min_hint, 0)
    return max(hint, min_hint, 0)


def needed_size(w: QWidget) -> tuple[int, int]:
    pol = w.sizePolicy()
    hint, mhint, explicit = w.sizeHint(), w.minimumSizeHint(), w.minimumSize()
    width = _needed(pol.horizontalPolicy(), hint.width(), mhint.width(), explicit.width())
    if w.hasHeightForWidth():
        height = w.heightForWidth(w.width())
    else:
        height = _needed(pol.verticalPolicy(), hint.height(), mhint.height(), explicit.height())
    return width, height


def describe(w: QWidget) -> str:
    text = ""
    for getter in ("text", "currentText", "placeholderText"):
        fn = getattr(w, getter, None)
        if callable(fn) and fn():
            text = str(fn())[:40]
            break
    name = w.objectName() or ""
    return f"{type(w).__name__}{'#' + name if name else ''} {text!r}"


def _outside_problem(w: QWidget, pane: QWidget) -> str:
    """Why ``w`` cannot be seen whole in ``pane`` ("" when it can)."""
    rect = QRect(QPoint(0, 0), w.size())
    child: QWidget = w
    ancestor = w.parentWidget()
    while ancestor is not None:
        rect.translate(child.pos())
        area = ancestor.parentWidget()
        if isinstance(area, QAbstractScrollArea) and area.viewport() is ancestor:
            view = ancestor.rect()
            if rect.left() < view.left() or rect.right() > view.right():
                bar = area.horizontalScrollBar()
                if (
                    area.horizontalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
                    or bar.maximum() <= bar.minimum()
                ):
                    return f"wider than the scroll area {describe(area)}, which cannot scroll"
            if rect.top() < view.top() or rect.bottom() > view.bottom():
                bar = area.verticalScrollBar()
                if (
                    area.verticalScrollBarPolicy() == Qt.ScrollBarPolicy.ScrollBarAlwaysOff
                    or bar.maximum() <= bar.minimum()
                ):
                    return f"taller than the scroll area {describe(area)}, which cannot scroll"
            rect = rect.intersected(view)  # the rest is reachable by scrolling
            if rect.isEmpty():
                return ""  # scrolled out of view: reachable
        elif not ancestor.rect().contains(rect):
            return (
                f"outside {type(ancestor).__name__}#{ancestor.objectName()} "
                f"({rect.getRect()} not in {ancestor.rect().getRect()})"
            )
        if ancestor is pane:
            return ""
        child, ancestor = ancestor, ancestor.parentWidget()
    return ""


def clipped_controls(pane: QWidget) -> list[str]:
    """Every visible control of ``pane`` that is clipped, with the reason."""
    found: list[str] = []
    for w in pane.findChildren(QWidget):
        if not isinstance(w, CONTROLS) or not w.isVisible() or _is_internal(w, pane):
            continue
        if isinstance(w, QLabel) and not w.text() and w.pixmap().isNull():
            continue
        need_w, need_h = needed_size(w)
        if w.width() < need_w or w.height() < need_h:
            found.append(f"{describe(w)}: {w.width()}x{w.height()} < needed {need_w}x{need_h}")
            continue
        problem = _outside_problem(w, pane)
        if problem:
            found.append(f"{describe(w)}: {problem}")
    return found


def clipped_in_every_tab(pane: QWidget) -> list[str]:
    """``clipped_controls`` and ``sideways_scrolling`` with each page of each visible tab
    widget shown in turn."""
    found = [
        f"[{pane.objectName()}] {p}" for p in clipped_controls(pane) + sideways_scrolling(pane)
    ]
    for tabs in pane.findChildren(QTabWidget):
        if not tabs.isVisible():
            continue
        current = tabs.currentIndex()
        for i in range(tabs.count()):
            tabs.setCurrentIndex(i)
            QApplication.processEvents()
            label = f"[{pane.objectName()} / {tabs.tabText(i)}]"
            found += [f"{label} {p}" for p in clipped_controls(pane)]
            found += [f"{label} {p}" for p in sideways_scrolling(pane)]
        tabs.setCurrentIndex(current)
    return sorted(set(found))


def sideways_scrolling(pane: QWidget) -> list[str]:
    """Visible form scroll areas (not tables or text views) that need a horizontal scroll
    bar: their content is wider than the pane."""
    found = []
    for area in pane.findChildren(QAbstractScrollArea):
        if not area.isVisible() or not isinstance(area, QScrollArea):
            continue
        bar = area.horizontalScrollBar()
        if bar.maximum() > bar.minimum():
            found.append(f"{describe(area)} scrolls sideways by {bar.maximum() - bar.minimum()}")
    return found
