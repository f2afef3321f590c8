"""The live view (``harness view``): a handset's screen in the browser with click-to-tap, and a rack's overview.

``frames`` is the one screenshot stream per handset, ``station`` a handset as
the view sees it (watched freely, driven under its lease), ``server`` the
aiohttp pages and endpoints; the pages are plain HTML and JavaScript in
``static/``.
"""
