"""tapegrad.utils: helpers with torch.utils' names."""
from . import checkpoint, data
