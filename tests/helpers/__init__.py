"""What several test modules share, one module per job: test modules import from here, never from each other or
from a conftest, which keeps only fixtures."""
