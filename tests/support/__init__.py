"""What the test packages share: throwaway databases, the demo and its people, the API and live-server
helpers, the browser and Slurm helpers. Test modules import from here (``from tests.support.api import Api``),
never from one another or from another package's conftest; fixtures that several packages use are defined
once, in ``tests/conftest.py`` and the plugin ``tests.support.app_fixtures`` it registers."""
