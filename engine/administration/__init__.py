"""Administration: a system administrator creates partnerships; each partnership's administrators manage its
agencies, roles, people and their memberships, its sign-in settings; staff come in from a CSV file. Every change
is an `AdministrationChange` (declared in `changes`), written in the same transaction as the change itself."""
