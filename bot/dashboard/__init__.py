# The web dashboard (/dasbor, officers who lead the office) and the public report card
# (/rapor): server-rendered pages on the one ASGI server (bot/app/web.py). routes.py holds
# the HTTP side (login, sessions, roles), pages.py the figures, svg.py the charts.
