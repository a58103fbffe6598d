"""Qt item models of the panels: lazy candidate history, step detail tables, task data tables."""
