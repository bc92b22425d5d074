"""One trainer per model kind; a trainer never knows where its pixels came from."""
