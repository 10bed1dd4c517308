"""Write PyTorch state-dict files in torch.save's layout without PyTorch, for
the tests: a zip of ``<prefix>/data.pkl`` (a protocol-2 pickle written opcode
by opcode, as torch.save's: an OrderedDict of ``_rebuild_tensor_v2`` calls
on persistent storage ids), ``<prefix>/data/<key>`` (the raw bytes),
``<prefix>/version`` and ``<prefix>/byteorder``."""
import struct
import zipfile

import numpy

STORAGES = {'f4': 'FloatStorage', 'f8': 'DoubleStorage', 'f2': 'HalfStorage',
            'i8': 'LongStorage', 'i4': 'IntStorage', 'u1': 'ByteStorage', 'b1': 'BoolStorage'}


def global_(module, name):
    return b'c' + module.encode() + b'\n' + name.encode() + b'\n'


def text(s):
    data = s.encode()
    return b'X' + struct.pack('<I', len(data)) + data


def integer(n):
    if -2 ** 31 <= n < 2 ** 31:
        return b'J' + struct.pack('<i', n)
    data = n.to_bytes((n.bit_length() + 8) // 8, 'little', signed=True)
    return b'\x8a' + bytes([len(data)]) + data


def tuple_(items):
    return b'(' + b''.join(items) + b't'


class View:
    """A tensor that is a strided view of ``base`` (1-D): torch's (storage,
    offset, size, stride)."""

    def __init__(self, base, offset, size, stride):
        self.base, self.offset, self.size, self.stride = base, offset, size, stride


def state_dict_pickle(tensors, order='<', parameters=()):
    """(pickle bytes, {storage key: raw bytes}) of an OrderedDict of tensors
    (numpy arrays or Views); those named in ``parameters`` are saved as
    torch.nn.Parameters are (``_rebuild_parameter`` of the tensor)."""
    storages = {}
    body = b''
    for name, value in tensors.items():
        if not isinstance(value, View):
            value = numpy.array(value, order='C')
            strides = tuple(s // value.itemsize for s in value.strides)
            value = View(value.reshape(-1), 0, value.shape, strides)
        key = str(len(storages))
        dtype = value.base.dtype
        storages[key] = value.base.astype(dtype.newbyteorder(order)).tobytes()
        storage = tuple_([text('storage'),
                          global_('torch', STORAGES[dtype.str[1:]]),
                          text(key), text('cpu'), integer(value.base.size)])
        args = tuple_([storage + b'Q', integer(value.offset),
                       tuple_(integer(n) for n in value.size),
                       tuple_(integer(n) for n in value.stride),
                       b'\x89', global_('collections', 'OrderedDict') + b')R'])
        tensor = global_('torch._utils', '_rebuild_tensor_v2') + args + b'R'
        if name in parameters:
            tensor = global_('torch._utils', '_rebuild_parameter') + tuple_(
                [tensor, b'\x88', global_('collections', 'OrderedDict') + b')R']) + b'R'
        body += text(name) + tensor
    pickle = (b'\x80\x02' + global_('collections', 'OrderedDict') + b')R'
              + b'(' + body + b'u.')
    return pickle, storages


def write_pt(path, tensors, prefix='archive', order='<', pickle=None, storages=None,
             leave_out=(), parameters=()):
    """Write ``tensors`` as torch.save does (or the given ``pickle`` bytes
    and ``storages``); members named in ``leave_out`` are not written."""
    made, made_storages = state_dict_pickle(tensors, order, parameters)
    pickle = made if pickle is None else pickle
    storages = made_storages if storages is None else storages
    members = {prefix + '/data.pkl': pickle, prefix + '/byteorder':
               b'little' if order == '<' else b'big', prefix + '/version': b'3\n'}
    members.update({prefix + '/data/' + key: data for key, data in storages.items()})
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            if name not in leave_out:
                archive.writestr(name, data)
